"""The recette on worker processes (``harness.workers``): same verdicts as on threads, artifacts of several workers
never collide, a dead worker costs only its scenario, costly resources stay with worker 0."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.runner import _defaults, run
from harness.targets.reference import ReferenceTarget
from harness.workers import _Dispatch, run_in_processes
from scenarios.context import ScenarioContext
from scenarios.registry import ScenarioSpec, discover, select

# one of each kind: plain DCC work, simulators (MSS + DMP, INSi), a manual rule
SUBSET = ["DOC.01", "DOC.04", "INS.08", "TRANS.04", "ANN.03", "AUTH.03"]


def _verdicts(outcome) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {
        (r.requirement, r.scenario): (r.verdict.value, r.execution["status"] if r.execution else None)
        for r in outcome.results
    }


def test_processes_give_the_verdicts_of_threads_and_artifacts_never_collide(tmp_path):
    rem, rules, profile = _defaults()
    specs = select(discover(), SUBSET)
    assert any(s.needs for s in specs.values()) and any(not s.needs for s in specs.values())
    requirements = {s.requirement for s in specs.values()}
    outcomes = {}
    for jobs in (1, 2):
        target = ReferenceTarget()
        try:
            outcomes[jobs] = run(
                specs,
                target,
                rem,
                rules,
                profile,
                tmp_path / f"jobs{jobs}",
                jobs=jobs,
                requirements=requirements,
            )
        finally:
            target.close()
    assert _verdicts(outcomes[2]) == _verdicts(outcomes[1])
    assert {v for v, _ in _verdicts(outcomes[2]).values()} <= {"conforme", "non évalué"}
    # every artifact an event names exists, and the workers' simulators tagged theirs
    named = {a for e in outcomes[2].trace for a in e.artifacts}
    assert named and all((tmp_path / "jobs2" / a).is_file() for a in named)
    simulator_files = [a for a in named if Path(a).name[:1] == "w"]
    assert simulator_files, sorted(named)[:10]
    assert len({Path(a).name for a in simulator_files}) == len(simulator_files)


def _exits(ctx: ScenarioContext) -> None:
    os._exit(3)  # a crash of the process itself (a segfault in a library would look the same)


def _passes(ctx: ScenarioContext) -> None:
    ctx.note("harness.ok", pid=os.getpid())


def _fake(sid: str, function) -> ScenarioSpec:
    return ScenarioSpec(id=sid, requirement=sid.rsplit(".", 1)[0], function=function, module=__name__)


def test_a_worker_that_dies_costs_its_scenario_only(tmp_path):
    rem, _rules, profile = _defaults()
    specs = {
        "DOC.01.01": _fake("DOC.01.01", _exits),
        "DOC.02.01": _fake("DOC.02.01", _passes),
        "DOC.03.01": _fake("DOC.03.01", _passes),
    }
    target = ReferenceTarget()
    seen: list[str] = []
    try:
        runs = run_in_processes(
            specs, target.recipe(), rem, profile, tmp_path, 2, progress=lambda sid, _run: seen.append(sid)
        )
    finally:
        target.close()
    assert runs["DOC.01.01"].status == "error"
    assert "exit code 3" in runs["DOC.01.01"].message
    assert runs["DOC.02.01"].status == runs["DOC.03.01"].status == "passed"
    assert [e.type for e in runs["DOC.03.01"].events if e.source == "harness"] == ["harness.ok"]
    assert sorted(seen) == sorted(specs)


@pytest.mark.parametrize("owner_alive", [True, False])
def test_scenarios_using_a_resource_go_to_worker_0_unless_it_is_gone(owner_alive):
    def spec(sid: str, resources=(), needs=()) -> ScenarioSpec:
        return ScenarioSpec(sid, sid.rsplit(".", 1)[0], _passes, resources=resources, needs=needs)

    dispatch = _Dispatch(
        {
            "A.01.01": spec("A.01.01"),
            "B.01.01": spec("B.01.01", resources=("ans-validation",)),
            "C.01.01": spec("C.01.01", needs=("dmp",)),
            "D.01.01": spec("D.01.01", resources=("ans-validation",)),
        }
    )
    # worker 1 never takes what worker 0 builds a resource for; simulator scenarios start first
    assert dispatch.next_for(1, owner_alive) == ("C.01.01" if owner_alive else "B.01.01")
    if owner_alive:
        assert [dispatch.next_for(0, True), dispatch.next_for(0, True)] == ["B.01.01", "D.01.01"]
        assert [dispatch.next_for(1, True), dispatch.next_for(1, True)] == ["A.01.01", None]
    else:
        assert dispatch.next_for(1, False) == "D.01.01"
        assert dispatch.remaining() == ["C.01.01", "A.01.01"]


def test_a_scenario_that_validates_cda_must_declare_the_resource(tmp_path):
    from scenarios.cda import validate_cda

    ctx = ScenarioContext(_fake("CDA.01.01", _passes), None, {}, tmp_path, ("CDA.01.01.02",))
    with pytest.raises(RuntimeError, match="declare resources"):
        validate_cda(ctx, 2, b"<x/>", "x.xml", "N3", {"document_id": "d"})
