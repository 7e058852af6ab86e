"""Each alteration of a bundle after its run is detected and named: a deleted artifact, an added file, a verdict
edited in the manifest or in the book, unsafe manifest paths, symbolic links."""

from __future__ import annotations

import os

from openpyxl import load_workbook

from harness.cli import main
from proofs.book import VERDICT_COLUMN
from proofs.findings import Check, Status
from proofs.verify import verify_bundle
from tests.proofs.conftest import findings_about, load, result, save


def _artifact(bundle, requirement="DOC.07") -> str:
    return next(p for p in result(load(bundle), requirement)["proofs"] if p.startswith("artifacts/"))


def test_deleted_artifact_is_named(bundle, tmp_path, capsys):
    victim = _artifact(bundle)
    (bundle / victim).unlink()
    report = tmp_path / "cr.md"
    assert main(["verify", str(bundle), "--report", str(report)]) == 1
    assert victim in capsys.readouterr().out
    assert victim in report.read_text(encoding="utf-8")
    verification = verify_bundle(bundle)
    [finding] = findings_about(verification, file=victim, check=Check.INTEGRITY)
    assert "missing" in finding.message and finding.requirement == "DOC.07"
    assert verification.requirements["DOC.07"].status is Status.A_REJOUER
    assert verification.requirements["DOC.01"].status is Status.ACCEPTE


def test_added_file_is_named(bundle):
    (bundle / "artifacts" / "DOC.01.01.01" / "extra.html").write_text("<p>ajouté après coup</p>")
    (bundle / "notes.txt").write_text("hors manifeste")
    verification = verify_bundle(bundle)
    added = findings_about(verification, file="artifacts/DOC.01.01.01/extra.html")
    assert [f.requirement for f in added] == ["DOC.01"] and "not listed" in added[0].message
    [loose] = findings_about(verification, file="notes.txt")
    assert loose.requirement is None and loose.status is Status.A_CORRIGER
    assert verification.exit_status == 1


def test_modified_artifact_is_named(bundle):
    victim = _artifact(bundle, "DOC.08")
    (bundle / victim).write_bytes((bundle / victim).read_bytes() + b"\n")
    verification = verify_bundle(bundle)
    [finding] = findings_about(verification, file=victim)
    assert "modified after the run" in finding.message and finding.requirement == "DOC.08"


def test_verdict_changed_in_the_manifest(bundle):
    document = load(bundle)
    entry = result(document, "DOC.07")
    entry["verdict"] = "non applicable"
    document["requirements"]["DOC.07"] = "non applicable"
    save(bundle, document)
    verification = verify_bundle(bundle)
    replayed = findings_about(verification, requirement="DOC.07", check=Check.REPLAY)
    assert replayed and "« non applicable »" in replayed[0].message and "« conforme »" in replayed[0].message
    report = verification.requirements["DOC.07"]
    assert (report.claimed, report.replayed, report.status) == (
        "non applicable",
        "conforme",
        Status.A_CORRIGER,
    )
    # the summary still counts it as conforme: said too
    assert findings_about(verification, check=Check.MANIFEST)


def test_requirement_verdict_changed_in_the_manifest_only(bundle):
    document = load(bundle)
    document["requirements"]["DOC.09"] = "non applicable"
    save(bundle, document)
    verification = verify_bundle(bundle)
    [finding] = findings_about(verification, requirement="DOC.09")
    assert finding.check is Check.MANIFEST and "combine to « conforme »" in finding.message


def _edit_book(bundle, requirement: str, verdict: str) -> int:
    path = bundle / "recette-book.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["Recette"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 3).value == requirement)
    sheet.cell(row, VERDICT_COLUMN).value = verdict
    workbook.save(path)
    return row


def test_verdict_changed_in_the_book(bundle):
    row = _edit_book(bundle, "DOC.05", "non applicable")
    verification = verify_bundle(bundle)
    assert findings_about(verification, file="recette-book.xlsx", check=Check.INTEGRITY)
    [edited] = findings_about(verification, requirement="DOC.05", check=Check.BOOK)
    assert f"row {row}" in edited.message and "« non applicable »" in edited.message
    assert verification.requirements["DOC.05"].status is Status.A_CORRIGER


def test_verdict_changed_in_the_book_even_after_rehashing(bundle):
    _edit_book(bundle, "DOC.05", "non applicable")
    save(bundle, load(bundle), rehash=True)
    verification = verify_bundle(bundle)
    assert [f.check for f in verification.findings] == [Check.BOOK]
    assert verification.findings[0].requirement == "DOC.05"


def test_unsafe_manifest_paths_are_findings_never_followed(bundle, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    document = load(bundle)
    from proofs.manifest import sha256_file

    digest = sha256_file(outside)
    for path in ("../outside.txt", str(outside), "artifacts/../../outside.txt", "C:/windows/x", "a\\b"):
        document["files"][path] = digest
    save(bundle, document)
    verification = verify_bundle(bundle)
    unsafe = [f for f in verification.findings if "unsafe path" in f.message]
    assert len(unsafe) == 5
    assert not [f for f in verification.findings if "missing" in f.message or "modified" in f.message]


def test_symbolic_links_are_findings_never_followed(bundle, tmp_path):
    target = tmp_path / "elsewhere.html"
    target.write_text("<p>hors du dossier</p>")
    os.symlink(target, bundle / "artifacts" / "DOC.09.01.01" / "lien.html")
    verification = verify_bundle(bundle)
    [finding] = findings_about(verification, file="artifacts/DOC.09.01.01/lien.html")
    assert "symbolic link" in finding.message and finding.requirement == "DOC.09"


def test_a_result_removed_from_the_manifest_is_a_scenario_without_verdict(bundle):
    document = load(bundle)
    document["results"] = [r for r in document["results"] if r["requirement"] != "DOC.02"]
    save(bundle, document)
    verification = verify_bundle(bundle)
    assert findings_about(verification, requirement="DOC.02", check=Check.MANIFEST)
    assert findings_about(verification, requirement="DOC.02", check=Check.BOOK)
