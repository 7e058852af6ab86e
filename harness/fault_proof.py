"""Shows that the rules can fail: for each named fault of the reference DCC, the whole recette runs with the fault
switched on, and exactly the requirements the fault ``breaks`` must become « non conforme » — every other
requirement keeping the verdict it has on the faultless reference. A rule that no fault breaks is listed as not yet
shown to fail (issue 8: together the faults must break every requirement that has an automatic rule)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dcc import faults as dcc_faults
from harness.runner import run
from harness.targets.reference import ReferenceTarget
from rem.model import Rem
from rules.loader import RuleSet
from rules.verdict import Outcome
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


def _verdicts(
    specs: dict[str, ScenarioSpec], rem: Rem, rules: RuleSet, profile: dict, faults: list[str], jobs: int
) -> dict[str, str]:
    target = ReferenceTarget(faults=faults)
    try:
        with tempfile.TemporaryDirectory(prefix="fault-proof-") as out:
            requirements = {s.requirement for s in specs.values()}
            outcome = run(specs, target, rem, rules, profile, Path(out), jobs=jobs, requirements=requirements)
    finally:
        target.close()
    return {rid: v.value for rid, v in outcome.requirement_verdicts().items()}


def prove(
    specs: dict[str, ScenarioSpec],
    rem: Rem,
    rules: RuleSet,
    profile: dict,
    names: list[str] | None = None,
    jobs: int = 2,
) -> list[FaultProof]:
    catalogue = dcc_faults.load_all()
    baseline = _verdicts(specs, rem, rules, profile, [], jobs)
    proofs = []
    for name in names or list(catalogue):
        fault = catalogue[name]
        proof = FaultProof(name, fault.breaks)
        exercised = {s.requirement for s in specs.values()}
        proof.missing_scenarios = [r for r in fault.breaks if r not in exercised]
        faulty = _verdicts(specs, rem, rules, profile, [name], jobs)
        proof.verdicts = {r: faulty.get(r, Outcome.NON_EVALUE.value) for r in fault.breaks}
        proof.collateral = {
            r: (baseline[r], faulty.get(r, ""))
            for r in baseline
            if r not in fault.breaks and faulty.get(r) != baseline[r]
        }
        proofs.append(proof)
    return proofs


def unbroken_rules(rules: RuleSet) -> list[str]:
    """Automatic rules that no registered fault claims to break (not yet shown to fail on a faulty DCC)."""
    broken = {r for f in dcc_faults.load_all().values() for r in f.breaks}
    return sorted(rid for rid, rule in rules.rules.items() if not rule.manuelle and rid not in broken)
