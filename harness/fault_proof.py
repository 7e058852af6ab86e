"""Shows that the rules can fail: for each named fault of the reference DCC, run the scenarios of the requirements it
``breaks`` with the fault switched on, and check that exactly those requirements become « non conforme » — while the
same scenarios without the fault are « conforme ». A rule no fault can break is listed as not yet shown to fail."""

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
    missing_scenarios: list[str] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return not self.missing_scenarios and all(
            self.verdicts.get(r) == Outcome.NON_CONFORME.value for r in self.breaks
        )


def prove(
    specs: dict[str, ScenarioSpec], rem: Rem, rules: RuleSet, profile: dict, names: list[str] | None = None
) -> list[FaultProof]:
    catalogue = dcc_faults.load_all()
    proofs = []
    for name in names or list(catalogue):
        fault = catalogue[name]
        proof = FaultProof(name, fault.breaks)
        selected = {sid: s for sid, s in specs.items() if s.requirement in fault.breaks}
        proof.missing_scenarios = [
            r for r in fault.breaks if not any(s.requirement == r for s in selected.values())
        ]
        if selected:
            target = ReferenceTarget(faults=[name])
            try:
                with tempfile.TemporaryDirectory(prefix="fault-proof-") as out:
                    outcome = run(
                        selected, target, rem, rules, profile, Path(out), requirements=set(fault.breaks)
                    )
            finally:
                target.close()
            proof.verdicts = {rid: v.value for rid, v in outcome.requirement_verdicts().items()}
        proofs.append(proof)
    return proofs


def unbroken_rules(rules: RuleSet) -> list[str]:
    """Automatic rules that no registered fault claims to break (not yet shown to fail on a faulty DCC)."""
    broken = {r for f in dcc_faults.load_all().values() for r in f.breaks}
    return sorted(rid for rid, rule in rules.rules.items() if not rule.manuelle and rid not in broken)
