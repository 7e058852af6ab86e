"""Every named fault of the reference DCC makes the requirements it claims to break « non conforme » (and the
scenarios exist to show it): the proof that those rules can fail."""

from __future__ import annotations

from harness.fault_proof import prove
from rem import default_rem_path
from rem.loader import load_rem
from rules.loader import load_rules
from rules.profile import load_profile
from scenarios.registry import discover


def test_every_fault_breaks_what_it_claims():
    proofs = prove(discover(), load_rem(default_rem_path()).rem, load_rules(), load_profile())
    assert proofs
    unproven = {p.name: (p.verdicts, p.missing_scenarios) for p in proofs if not p.proven}
    assert not unproven
