"""A full-REM bundle: requirements only a person can prove (manual rules) wait for their proof; the editor adds it
after the run under ``artifacts/<proof id>/`` (docs/user-guide.md), where it is reported for the reviewer to
examine rather than refused as an alteration. Anywhere else, an added file is still a finding."""

from __future__ import annotations

import pytest

from proofs.findings import Check, Status
from proofs.verify import verify_bundle
from rem import default_rem_path
from rem.loader import load_rem
from rules.loader import load_rules
from tests.proofs.conftest import copy, findings_about, make_bundle


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("full") / "bundle", [])


@pytest.fixture(scope="module")
def manual_requirement():
    rules, rem = load_rules(), load_rem(default_rem_path()).rem
    rid = next(
        r for r, rule in sorted(rules.rules.items()) if rule.manuelle and rem.get(r) and rem.get(r).proofs
    )
    return rid, rem.requirement(rid).proofs[0].id


def test_full_rem_bundle_replays_without_inconsistency(full):
    verification = verify_bundle(full)
    assert verification.out_of_scope == []
    inconsistent = [f for f in verification.findings if f.check not in (Check.VERDICT, Check.COMPLETENESS)]
    assert inconsistent == []
    assert all(r.claimed == r.replayed for r in verification.requirements.values())


def test_manual_proof_added_after_the_run_is_to_examine(full, manual_requirement, tmp_path):
    """The scenarios of manual rules deliver what a machine can; what a person adds afterwards (a signed
    commitment, a scan) under the proof's folder is reported « à examiner », never as tampering."""
    rid, proof_id = manual_requirement
    before = verify_bundle(full)
    bundle = copy(full, tmp_path / "b")
    folder = bundle / "artifacts" / proof_id.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "engagement-signe.pdf").write_bytes(b"%PDF-1.4 engagement")
    after = verify_bundle(bundle)
    assert [f for f in after.findings if f.check is Check.INTEGRITY] == []
    assert any(proof_id in note and "engagement-signe.pdf" in note for note in after.notes)
    assert len(after.findings) <= len(before.findings)
    assert after.requirements[rid].claimed == before.requirements[rid].claimed


def test_file_added_beside_a_non_manual_proof_is_still_a_finding(full, tmp_path):
    bundle = copy(full, tmp_path / "b")
    (bundle / "artifacts" / "DOC.01.01.01" / "ajout.pdf").write_bytes(b"%PDF")
    verification = verify_bundle(bundle)
    [added] = findings_about(verification, file="artifacts/DOC.01.01.01/ajout.pdf")
    assert added.check is Check.INTEGRITY and added.status is Status.A_CORRIGER
