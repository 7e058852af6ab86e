"""Shows that the rules can fail: for each named fault of the reference DCC, the whole recette runs with the fault
switched on, and exactly the requirements the fault ``breaks`` must become « non conforme » — every other
requirement keeping the verdict it has on the faultless reference. A rule that no fault breaks is listed as not yet
shown to fail (issue 8: together the faults must break every requirement that has an automatic rule)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcc import faults as dcc_faults
from harness.runner import run, start_simulators
from harness.simulators.stack import environment
from harness.targets.reference import ReferenceTarget
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

    @property
    def proven(self) -> bool:
        return (
            not self.missing_scenarios
            and not self.collateral
            and all(self.verdicts.get(r) == Outcome.NON_CONFORME.value for r in self.breaks)
        )


@dataclass
class _Run:
    results: dict[tuple[str, str], Outcome]  # (requirement, scenario) -> verdict, for the scenarios run
    probes: dict[str, set[str]]  # scenario -> the faults the DCC asked about while serving it
    template: Path


def _run(
    specs: dict[str, ScenarioSpec],
    rem: Rem,
    rules: RuleSet,
    profile: dict,
    faults: list[str],
    jobs: int,
    workdir: Path,
    stack: Any,
    template: Path | None,
) -> _Run:
    target = ReferenceTarget(
        faults=faults, workdir=workdir / "-".join(faults or ["baseline"]), template=template
    )
    try:
        if stack is not None:
            target.configure(environment(stack.endpoints()))
        out = Path(tempfile.mkdtemp(dir=workdir, prefix="bundle-"))
        requirements = {s.requirement for s in specs.values()}
        outcome = run(
            specs, target, rem, rules, profile, out, jobs=jobs, requirements=requirements, stack=stack
        )
    finally:
        target.close()
    results = {(r.requirement, r.scenario): r.verdict for r in outcome.results if r.scenario in specs}
    return _Run(results, target.probes(), target.template)


def _by_requirement(results: dict[tuple[str, str], Outcome]) -> dict[str, str]:
    grouped: dict[str, list[Outcome]] = {}
    for (requirement, _scenario), verdict in results.items():
        grouped.setdefault(requirement, []).append(verdict)
    return {rid: combine(outcomes).value for rid, outcomes in grouped.items()}


def prove(
    specs: dict[str, ScenarioSpec],
    rem: Rem,
    rules: RuleSet,
    profile: dict,
    names: list[str] | None = None,
    jobs: int = 2,
) -> list[FaultProof]:
    catalogue = dcc_faults.load_all()
    with tempfile.TemporaryDirectory(prefix="fault-proof-") as directory:
        workdir = Path(directory)
        # one set of simulators for all the runs: each run's scenarios are attributed by the evidence store
        stack = start_simulators(_NoTarget(), workdir) if any(s.needs for s in specs.values()) else None
        try:
            return _prove(
                specs, rem, rules, profile, names or list(catalogue), jobs, workdir, stack, catalogue
            )
        finally:
            if stack is not None:
                stack.stop()


class _NoTarget:
    def configure(self, environment: dict[str, str]) -> None:
        """Each fault run's own target is configured with the endpoints instead."""


def _prove(specs, rem, rules, profile, names, jobs, workdir, stack, catalogue) -> list[FaultProof]:
    """The baseline runs every scenario once and records which faults each one's code path asked about; a fault
    then replays only the scenarios that asked about it (their behaviour is the only one it can change: the code
    of a scenario that never reaches the fault's check runs identically) and those of the requirements it claims
    to break. Every other scenario keeps its baseline verdict, so « exactly » is checked on the whole recette."""
    baseline = _run(specs, rem, rules, profile, [], jobs, workdir, stack, None)
    reference = _by_requirement(baseline.results)
    exercised = {s.requirement for s in specs.values()}
    proofs = []
    for name in names:
        fault = catalogue[name]
        proof = FaultProof(name, fault.breaks)
        proof.missing_scenarios = [r for r in fault.breaks if r not in exercised]
        replay = {
            sid: spec
            for sid, spec in specs.items()
            if name in baseline.probes.get(sid, set()) or spec.requirement in fault.breaks
        }
        results = dict(baseline.results)
        if replay:
            results.update(
                _run(replay, rem, rules, profile, [name], jobs, workdir, stack, baseline.template).results
            )
        faulty = _by_requirement(results)
        proof.replayed = sorted(replay)
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
