"""Hostile or broken inputs get a clear error; the other files are still validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.cda
from harness.cda import Validator
from harness.cli import main

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol3;</title></ClinicalDocument>"""


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (XXE, "DOCTYPE"),
        (LAUGHS, "DOCTYPE"),
        (b"%PDF-1.4 not xml", "not XML"),
        (b"<ClinicalDocument xmlns='urn:hl7-org:v3'><unclosed></ClinicalDocument>", "not well-formed"),
        (b"<html/>", "not a CDA"),
    ],
)
def test_hostile_input_is_refused(validator: Validator, data: bytes, expected: str) -> None:
    report = validator.validate(data, name="bad.xml")
    assert not report.valid
    assert expected in (report.error or "")
    assert "root:" not in json.dumps(report.to_json())  # nothing from /etc/passwd leaked


def test_oversized_file_is_refused_without_reading_it(
    validator: Validator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)  # sparse: cheap to make
    monkeypatch.setattr(validator, "max_bytes", 1024 * 1024)
    report = validator.validate(big)
    assert "too large" in (report.error or "")


def test_cli_goes_on_after_bad_files(
    validator: Validator,
    examples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(harness.cda, "Validator", lambda cisis_dir=None: validator)
    (tmp_path / "xxe.xml").write_bytes(XXE)
    (tmp_path / "laughs.xml").write_bytes(LAUGHS)
    (tmp_path / "notxml.xml").write_bytes(b"hello")
    good = str(examples / "CANCER-FRCP_2025.01_Appareil.xml")
    files = [str(tmp_path / "xxe.xml"), str(tmp_path / "laughs.xml"), str(tmp_path / "notxml.xml"), good]
    status = main(["cda", "validate", "--json", *files])
    assert status == 1
    reports = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in reports] == files
    assert [r["valid"] for r in reports] == [False, False, False, True]
    assert reports[3]["volet"] == "CANCER-FRCP 2025.01"
    for report in reports:
        assert {"file", "valid", "volet", "xsd_errors", "schematron_failures"} <= set(report)


def test_cli_text_and_exit_zero_when_all_valid(
    validator: Validator, examples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(harness.cda, "Validator", lambda cisis_dir=None: validator)
    status = main(["cda", "validate", str(examples / "DOC_NON_STRUCTURE_CDA-R2-N1.xml")])
    out = capsys.readouterr().out
    assert status == 0
    assert "VALID" in out and "N1 (XDS-SD)" in out


def test_cli_missing_cisis_dir_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["cda", "validate", "--cisis-dir", str(tmp_path / "nowhere"), str(tmp_path / "x.xml")])
    assert status == 2
    assert "CI-SIS artifacts not found" in capsys.readouterr().err
