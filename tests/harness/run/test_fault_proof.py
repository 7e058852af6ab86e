"""Every named fault of the reference DCC makes exactly the requirements it claims to break « non conforme », and
nothing else changes (harness.fault_proof): the proof that those rules can fail.

A fault whose requirements have no executable scenario yet cannot be shown; those are listed, by name, in
``faults_without_scenario.txt`` beside this file — a visible gap, checked both ways: a listed fault that has become
provable must leave the list, and a fault missing its scenario must be on it."""

from __future__ import annotations

from pathlib import Path

from harness.fault_proof import prove
from rem import default_rem_path
from rem.loader import load_rem
from rules.loader import load_rules
from rules.profile import load_profile
from scenarios.registry import discover

GAP = Path(__file__).with_name("faults_without_scenario.txt")


def _listed() -> set[str]:
    lines = GAP.read_text(encoding="utf-8").splitlines() if GAP.exists() else []
    return {line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()}


def test_every_fault_breaks_what_it_claims():
    proofs = prove(discover(), load_rem(default_rem_path()).rem, load_rules(), load_profile())
    assert proofs
    listed = _listed()
    without_scenario = {p.name for p in proofs if p.missing_scenarios}
    assert without_scenario == listed, (
        f"update {GAP.name}: missing from it {sorted(without_scenario - listed)}, "
        f"now provable {sorted(listed - without_scenario)}"
    )
    unproven = {
        p.name: {"verdicts": p.verdicts, "collateral": p.collateral}
        for p in proofs
        if not p.missing_scenarios and not p.proven
    }
    assert not unproven
