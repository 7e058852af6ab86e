"""Shows that the rules can fail: for each named fault of the reference DCC, the whole recette runs with the fault
switched on, and exactly the requirements the fault ``breaks`` must become « non conforme » — every other
requirement keeping the verdict it has on the faultless reference. A rule that no fault breaks is listed as not yet
shown to fail (issue 8: together the faults must break every requirement that has an automatic rule)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dcc import faults as dcc_faults
from harness.runner import ScenarioRun, _judge, copy_artifacts, proof_ids
from harness.targets.reference import ReferenceTarget
from harness.workers import Task, run_tasks
from rem.model import Rem
from rules.loader import RuleSet
from rules.verdict import Outcome, combine
from scenarios.registry import ScenarioSpec


@dataclass
class FaultProof:
    name: str
    breaks: tuple[str, ...]
    verdicts: dict[str, str] = field(default_factory=dict)  # requirement -> verdict with the fault on
    missing_scenarios: list[str] = field(default_factory=list)  # broken requirements no scenario exercises
    collateral: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # other requirement -> (baseline, faulty)
    replayed: list[str] = field(default_factory=list)  # the scenarios run again with the fault on

    @property
    def proven(self) -> bool:
        return (
            not self.missing_scenarios
            and not self.collateral
            and all(self.verdicts.get(r) == Outcome.NON_CONFORME.value for r in self.breaks)
        )


def prove(
    specs: dict[str, ScenarioSpec],
    rem: Rem,
    rules: RuleSet,
    profile: dict,
    names: list[str] | None = None,
    jobs: int = 2,
) -> list[FaultProof]:
    """``jobs``: worker processes (``harness.workers``), each with its own reference DCC and simulators."""
    catalogue = dcc_faults.load_all()
    with tempfile.TemporaryDirectory(prefix="fault-proof-") as directory:
        return _prove(specs, rem, rules, profile, names or list(catalogue), jobs, Path(directory), catalogue)


def _by_requirement(results: dict[tuple[str, str], Outcome]) -> dict[str, str]:
    grouped: dict[str, list[Outcome]] = {}
    for (requirement, _scenario), verdict in results.items():
        grouped.setdefault(requirement, []).append(verdict)
    return {rid: combine(outcomes).value for rid, outcomes in grouped.items()}


def _prove(specs, rem, rules, profile, names, jobs, workdir: Path, catalogue) -> list[FaultProof]:
    """The baseline runs every scenario once and records which faults each one's code path asked about; a fault
    then replays only the scenarios that asked about it (their behaviour is the only one it can change: the code
    of a scenario that never reaches the fault's check runs identically) and those of the requirements it claims
    to break. Every other scenario keeps its baseline verdict, so « exactly » is checked on the whole recette.

    All the replays of all the faults share one pool of worker processes: each task switches its own fault on."""
    template = ReferenceTarget(workdir=workdir / "template")  # migrated once, copied by every worker
    simulators = workdir / "simulators"
    proofs_of = {sid: proof_ids(spec, rem) for sid, spec in specs.items()}

    def bundle(key: str) -> str:
        directory = workdir / "bundles" / key
        directory.mkdir(parents=True, exist_ok=True)
        return str(directory)

    def judged(runs: dict[str, ScenarioRun], key: str) -> dict[tuple[str, str], Outcome]:
        out = Path(bundle(key))
        copy_artifacts([e for run in runs.values() for e in run.events], simulators, out)
        requirements = {runs[sid].spec.requirement for sid in runs}
        outcome = _judge(runs, rem, rules, profile, out, datetime.now(UTC), requirements)
        return {(r.requirement, r.scenario): r.verdict for r in outcome.results if r.scenario in runs}

    try:
        recipe = template.recipe()
        baseline_runs: dict[str, ScenarioRun] = {}
        probes: dict[str, set[str]] = {}

        def baseline_done(task: Task, run: ScenarioRun, asked: list[str]) -> None:
            baseline_runs[task.spec.id] = run
            probes[task.spec.id] = set(asked)

        tasks = [Task(spec, proofs_of[sid], bundle("baseline"), ()) for sid, spec in specs.items()]
        run_tasks(tasks, recipe, profile, simulators, jobs, baseline_done)
        baseline = judged(baseline_runs, "baseline")
        reference = _by_requirement(baseline)
        exercised = {s.requirement for s in specs.values()}
        plan = {
            name: {
                sid: spec
                for sid, spec in specs.items()
                if name in probes.get(sid, set()) or spec.requirement in catalogue[name].breaks
            }
            for name in names
        }
        replays: dict[str, dict[str, ScenarioRun]] = {name: {} for name in names}
        tasks = [
            Task(spec, proofs_of[sid], bundle(name), (name,), name)
            for name, replay in plan.items()
            for sid, spec in replay.items()
        ]
        run_tasks(
            tasks,
            recipe,
            profile,
            simulators,
            jobs,
            lambda task, run, _: replays[task.key].update({task.spec.id: run}),
        )
    finally:
        template.close()
    proofs = []
    for name in names:
        fault = catalogue[name]
        proof = FaultProof(name, fault.breaks)
        proof.missing_scenarios = [r for r in fault.breaks if r not in exercised]
        results = dict(baseline)
        if replays[name]:
            results.update(judged(replays[name], name))
        faulty = _by_requirement(results)
        proof.replayed = sorted(plan[name])
        proof.verdicts = {r: faulty.get(r, Outcome.NON_EVALUE.value) for r in fault.breaks}
        proof.collateral = {
            r: (reference[r], faulty.get(r, ""))
            for r in reference
            if r not in fault.breaks and faulty.get(r) != reference[r]
        }
        proofs.append(proof)
    return proofs


def unbroken_rules(rules: RuleSet) -> list[str]:
    """Automatic rules that no registered fault claims to break (not yet shown to fail on a faulty DCC)."""
    broken = {r for f in dcc_faults.load_all().values() for r in f.breaks}
    return sorted(rid for rid, rule in rules.rules.items() if not rule.manuelle and rid not in broken)
