"""Every named fault of the reference DCC makes exactly the requirements it claims to break « non conforme », and
nothing else changes (harness.fault_proof): the proof that those rules can fail.

A fault the recette cannot show (no executable scenario for its requirements, or a failure no scenario can cause,
such as the worker killed in the middle of a delivery — that one is shown by tests/dcc/test_transmissions_crash.py)
is listed, by name and with the reason, in ``faults_not_shown_by_the_recette.txt`` beside this file: a visible gap,
checked both ways — a listed fault that the recette now shows must leave the list, and an unproven fault must be on
it."""

from __future__ import annotations

from pathlib import Path

from harness.fault_proof import prove
from rem import default_rem_path
from rem.loader import load_rem
from rules.loader import load_rules
from rules.profile import load_profile
from scenarios.registry import discover

GAP = Path(__file__).with_name("faults_not_shown_by_the_recette.txt")


def _listed() -> set[str]:
    lines = GAP.read_text(encoding="utf-8").splitlines() if GAP.exists() else []
    return {line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()}


def test_every_fault_breaks_what_it_claims():
    proofs = prove(discover(), load_rem(default_rem_path()).rem, load_rules(), load_profile())
    assert proofs
    listed = _listed()
    unproven = {p.name: {"verdicts": p.verdicts, "collateral": p.collateral} for p in proofs if not p.proven}
    assert set(unproven) == listed, (
        f"update {GAP.name}: not shown and not listed {sorted(set(unproven) - listed)} ({unproven}), "
        f"listed but now shown {sorted(listed - set(unproven))}"
    )
