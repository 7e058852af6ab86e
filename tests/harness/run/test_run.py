"""``dcc-recette run``: the bundle it writes, its exit statuses, and the same verdicts over HTTP as in-process."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from harness.cli import main
from proofs import manifest as mf
from proofs import signing
from proofs.book import SHEET, VERDICT_COLUMN


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "b"
    key = tmp_path_factory.mktemp("key") / "key.pem"
    signing.generate(key)
    status = main(["run", "--only", "DOC", "--out", str(out), "--sign", str(key), "--jobs", "2"])
    return out, status, key


def _manifest(out):
    return json.loads((out / mf.MANIFEST).read_text(encoding="utf-8"))


def test_manifest_lists_every_file_with_its_sha256(bundle):
    out, _status, _key = bundle
    manifest = _manifest(out)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - mf.UNHASHED
    assert set(manifest["files"]) == on_disk
    for relative, digest in manifest["files"].items():
        assert mf.sha256_file(out / relative) == digest, relative
    assert manifest["format"] == mf.FORMAT and manifest["rem"]["sha256"]
    assert all(len(h) == 64 for h in manifest["rule_files"].values())


def test_results_cover_the_selected_requirements_with_proofs(bundle):
    out, _status, _key = bundle
    manifest = _manifest(out)
    results = {r["scenario"]: r for r in manifest["results"]}
    assert {r["requirement"] for r in manifest["results"]} == {f"DOC.0{i}" for i in range(1, 10)}
    executed = [r for r in results.values() if r["execution"]]
    assert executed and all(r["verdict"] == "conforme" for r in executed), [
        (r["scenario"], r["reasons"]) for r in executed if r["verdict"] != "conforme"
    ]
    # scenarios not written yet are never claimed conforme
    assert all(r["verdict"] == "non évalué" for r in results.values() if not r["execution"])
    journal = results["DOC.01.01"]["expected_proofs"][1]
    assert journal["id"] == "DOC.01.01.02" and journal["delivered"] == [
        "artifacts/DOC.01.01.02/journal.jsonl"
    ]
    lines = (out / journal["delivered"][0]).read_text(encoding="utf-8").splitlines()
    assert any(json.loads(line)["type"] == "document.transition_refused" for line in lines)


def test_signature_verifies_and_detects_a_change(bundle):
    out, _status, key = bundle
    public = signing.load_public(key.with_name(key.name + ".pub"))
    data = (out / mf.MANIFEST).read_bytes()
    signature = (out / mf.SIGNATURE).read_bytes()
    assert signing.verify(data, signature, public)
    assert not signing.verify(data.replace(b"conforme", b"CONFORME", 1), signature, public)


def test_book_junit_and_allure_agree_with_the_manifest(bundle):
    out, _status, _key = bundle
    manifest = _manifest(out)
    claimed = {(r["requirement"], r["scenario"]): r["verdict"] for r in manifest["results"]}
    sheet = load_workbook(out / "recette-book.xlsx")[SHEET]
    header = [c.value for c in sheet[1]]
    assert header[:8] == [
        "Section",
        "Fonction",
        "N° exigence",
        "Énoncé",
        "N° scénario",
        "Scénario",
        "N° preuve",
        "Preuve",
    ]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows and all(claimed[(row[2], row[4])] == row[VERDICT_COLUMN - 1] for row in rows)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    linked = [c for c in sheet["J"][1:] if c.hyperlink]
    assert linked and all((out / c.hyperlink.target).is_file() for c in linked)
    suites = ET.parse(out / "junit.xml").getroot()
    assert int(suites.get("tests")) == len(claimed)
    assert int(suites.get("errors")) == sum(v == "non évalué" for v in claimed.values())
    allure = list((out / "allure-results").glob("*-result.json"))
    assert len(allure) == len(claimed)


def test_exit_status_is_the_gate(bundle):
    _out, status, _key = bundle
    assert status == 0  # every DOC requirement is conforme on the reference: the gate passes


def test_a_fault_makes_its_requirement_non_conforme(tmp_path):
    out = tmp_path / "faulty"
    main(["run", "--only", "DOC.01", "--out", str(out), "--fault", "frcp_reopened_after_validation"])
    manifest = _manifest(out)
    assert manifest["requirements"] == {"DOC.01": "non conforme"}
    assert manifest["target"]["faults"] == ["frcp_reopened_after_validation"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--only", "NOPE"], "no scenario matches"),
        (["run", "--target", "http"], "--driver-url"),
        (["run", "--fault", "no_such_fault"], "unknown fault"),
        (
            ["run", "--target", "http", "--driver-url", "http://127.0.0.1:9", "--only", "DOC"],
            "cannot be reached",
        ),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err


def test_out_directory_that_is_not_a_bundle_is_refused(tmp_path, capsys):
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["run", "--only", "DOC.01", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert "not an earlier proof bundle" in capsys.readouterr().err


def test_http_target_gives_the_same_verdicts_as_in_process(served_reference, bundle, tmp_path):
    out = tmp_path / "http"
    main(["run", "--target", "http", "--driver-url", served_reference, "--only", "DOC", "--out", str(out)])
    over_http = _manifest(out)
    in_process = _manifest(bundle[0])
    assert over_http["target"]["kind"] == "http"
    assert over_http["requirements"] == in_process["requirements"]
    assert over_http["summary"] == in_process["summary"]


def test_http_target_keeps_each_scenario_apart_and_starts_each_run_afresh(served_reference, tmp_path):
    """Scenarios that type the same INSi test identities (INS/RAP), count the DCC's activity (TBB.02) or change an
    establishment's setting (RGPD.02, a PUT): on one served DCC they would see each other's data. Run twice over
    HTTP against the same served DCC, they give the in-process verdicts both times (all « conforme »)."""
    only = ["--only", "INS/RAP", "TBB.02", "RGPD.02"]
    main(["run", *only, "--out", str(tmp_path / "in-process")])
    in_process = _manifest(tmp_path / "in-process")
    assert set(in_process["requirements"].values()) == {"conforme"}, in_process["requirements"]
    for attempt in ("first", "second"):
        out = tmp_path / attempt
        main(["run", "--target", "http", "--driver-url", served_reference, *only, "--out", str(out)])
        assert _manifest(out)["requirements"] == in_process["requirements"], attempt


def test_faults_json_lists_name_description_breaks(capsys):
    assert main(["faults", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing and all(set(item) == {"name", "description", "breaks"} for item in listing)
    assert {"frcp_reopened_after_validation", "status_change_not_audited"} <= {i["name"] for i in listing}
