"""An untouched bundle is accepted (exit 0, every requirement « accepté » in both report formats); signatures are
checked when a key is given, said unchecked otherwise, and a bundle signed with another key fails."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from harness.cli import main
from proofs.findings import Check, Status
from proofs.verify import verify_bundle
from tests.proofs.conftest import ACCEPTED, copy, findings_about, load


def test_untouched_bundle_is_accepted_with_exit_0(pristine, tmp_path, capsys):
    xlsx, md = tmp_path / "cr.xlsx", tmp_path / "cr.md"
    status = main(["verify", str(pristine), "--report", str(xlsx), "--report", str(md)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Dossier de recette accepté" in out
    requirements = {s.rsplit(".", 1)[0] for s in ACCEPTED}
    sheet = load_workbook(xlsx)["Compte-rendu"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in rows} == requirements
    assert {r[6] for r in rows} == {"accepté"}
    assert all(r[4] == r[5] == "conforme" for r in rows)
    text = md.read_text(encoding="utf-8")
    assert "Dossier de recette accepté" in text
    assert text.count("**accepté**") == len(requirements)


def test_json_output_is_the_whole_verification(pristine, capsys):
    assert main(["verify", str(pristine), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["accepted"] is True and document["exit_status"] == 0
    assert document["findings"] == []
    assert document["counts"] == {"accepté": len(ACCEPTED), "à rejouer": 0, "à corriger": 0}
    assert document["facts"]["signature"] == "absente"
    assert document["facts"]["editor_rem"]["known"] is True


def test_a_bundle_with_unmet_requirements_is_not_accepted_but_its_claims_hold(tmp_path):
    """The whole DOC section: DOC.03 lacks a proof file (the CDA of both versions) — a test to replay — while
    nothing in the bundle is inconsistent or altered (its acknowledgement mails are reports, not document mails)."""
    from tests.proofs.conftest import make_bundle

    bundle = make_bundle(tmp_path / "doc", ["DOC"])
    verification = verify_bundle(bundle)
    assert verification.exit_status == 1
    statuses = {rid: r.status for rid, r in verification.requirements.items()}
    assert {rid for rid, s in statuses.items() if s is Status.A_REJOUER} == {"DOC.03"}
    assert Status.A_CORRIGER not in statuses.values()
    assert {f.check for f in verification.findings} == {Check.COMPLETENESS}
    assert any("DOC.03.01.02" in f.message for f in findings_about(verification, requirement="DOC.03"))


def test_keygen_then_signed_bundle_verifies_and_another_key_fails(pristine, tmp_path, capsys):
    key, other = tmp_path / "editor.pem", tmp_path / "other.pem"
    assert main(["keygen", str(key)]) == 0
    assert main(["keygen", str(other)]) == 0
    assert main(["keygen", str(key)]) == 2  # never overwrites a key silently
    assert (key.stat().st_mode & 0o777) == 0o600
    bundle = copy(pristine, tmp_path / "signed")
    from tests.proofs.conftest import save

    save(bundle, load(bundle), key=key)
    capsys.readouterr()
    assert main(["verify", str(bundle), "--pubkey", f"{key}.pub", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["facts"]["signature"].startswith("vérifiée")

    verification = verify_bundle(bundle, pubkey=other.with_name("other.pem.pub"))
    assert verification.exit_status == 1
    [finding] = verification.findings
    assert finding.check is Check.SIGNATURE and finding.file == "manifest.json.sig"
    assert "another key" in finding.message


def test_signature_without_key_is_reported_unchecked(pristine, tmp_path):
    key = tmp_path / "k.pem"
    assert main(["keygen", str(key)]) == 0
    bundle = copy(pristine, tmp_path / "signed")
    from tests.proofs.conftest import save

    save(bundle, load(bundle), key=key)
    verification = verify_bundle(bundle)
    assert verification.accepted
    assert verification.facts["signature"].startswith("présente, non vérifiée")
    assert any("not checked" in n for n in verification.notes)


def test_a_key_given_for_an_unsigned_bundle_is_a_finding(pristine, tmp_path):
    key = tmp_path / "k.pem"
    assert main(["keygen", str(key)]) == 0
    verification = verify_bundle(pristine, pubkey=key.with_name("k.pem.pub"))
    assert [f.check for f in verification.findings] == [Check.SIGNATURE]


def test_signed_manifest_edited_after_signing_fails(pristine, tmp_path):
    """Even a change the replay cannot see (a scenario's recorded execution) breaks the signature."""
    from tests.proofs.conftest import save

    key = tmp_path / "k.pem"
    assert main(["keygen", str(key)]) == 0
    bundle = copy(pristine, tmp_path / "signed")
    save(bundle, load(bundle), key=key)
    document = load(bundle)
    document["target"]["implementation"] = "un autre DCC"
    save(bundle, document)  # the old signature stays
    verification = verify_bundle(bundle, pubkey=key.with_name("k.pem.pub"))
    assert [f.check for f in verification.findings] == [Check.SIGNATURE]
    assert verification.facts["signature"] == "invalide"
