"""The recette on worker processes (``harness.workers``): same verdicts as on threads, artifacts of several workers
never collide, a dead worker costs only its scenario, costly resources stay with worker 0."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.runner import _defaults, run
from harness.targets.reference import ReferenceTarget
from harness.workers import Task, _Dispatch, run_in_processes
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
    def task(sid: str, resources=(), needs=()) -> Task:
        spec = ScenarioSpec(sid, sid.rsplit(".", 1)[0], _passes, resources=resources, needs=needs)
        return Task(spec, (), "bundle")

    dispatch = _Dispatch(
        [
            task("A.01.01"),
            task("B.01.01", resources=("ans-validation",)),
            task("C.01.01", needs=("dmp",)),
            task("D.01.01", resources=("ans-validation",)),
        ]
    )

    def next_id(worker: int, alive: bool) -> str | None:
        given = dispatch.next_for(worker, alive)
        return given.spec.id if given else None

    # worker 1 never takes what worker 0 builds a resource for; simulator scenarios start first
    assert next_id(1, owner_alive) == ("C.01.01" if owner_alive else "B.01.01")
    if owner_alive:
        assert [next_id(0, True), next_id(0, True)] == ["B.01.01", "D.01.01"]
        assert [next_id(1, True), next_id(1, True)] == ["A.01.01", None]
    else:
        assert next_id(1, False) == "D.01.01"
        assert [t.spec.id for t in dispatch.remaining()] == ["C.01.01", "A.01.01"]


def test_a_scenario_that_validates_cda_must_declare_the_resource(tmp_path):
    from scenarios.cda import validate_cda

    ctx = ScenarioContext(_fake("CDA.01.01", _passes), None, {}, tmp_path, ("CDA.01.01.02",))
    with pytest.raises(RuntimeError, match="declare resources"):
        validate_cda(ctx, 2, b"<x/>", "x.xml", "N3", {"document_id": "d"})


def test_the_fault_proof_switches_each_tasks_fault_on_in_shared_workers():
    from harness.fault_proof import prove

    rem, rules, profile = _defaults()
    specs = select(discover(), ["CDA.04", "DOC.01", "INS.05"])
    proofs = prove(specs, rem, rules, profile, ["cda_qualified_traits_not_br", "status_change_not_audited"])
    by_name = {p.name: p for p in proofs}
    shown = by_name["cda_qualified_traits_not_br"]
    assert shown.proven, (shown.verdicts, shown.collateral)
    assert "CDA.04.01" in shown.replayed
    # a fault whose requirements are outside the selection cannot be shown: said, not hidden
    unshown = by_name["status_change_not_audited"]
    assert not unshown.proven and unshown.missing_scenarios
