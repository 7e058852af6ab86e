"""The CI gate: thresholds by nature and section, dated waivers shown in the book, never hiding a verdict."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from harness.cli import main
from harness.gate import GateError, evaluate_gate, load_gate
from rem import default_rem_path
from rem.loader import load_rem

REM = load_rem(default_rem_path()).rem


def _write(tmp_path, text: str):
    path = tmp_path / "gate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_gate_needs_every_exigence_conforme():
    policy = load_gate(None, REM)
    assert evaluate_gate(policy, REM, {"DOC.01": "conforme", "DOC.02": "conforme"}).passed
    result = evaluate_gate(policy, REM, {"DOC.01": "conforme", "DOC.02": "non évalué"})
    assert not result.passed and "DOC.02" in result.failures[0]


def test_section_threshold_and_non_applicable(tmp_path):
    policy = load_gate(
        _write(tmp_path, "thresholds:\n  nature: {EXIGENCE: 0.5}\n  sections: {DOC: 1.0}\n"), REM
    )
    verdicts = {
        "DOC.01": "conforme",
        "DOC.02": "non applicable",
        "INS.01": "non conforme",
        "INS.02": "conforme",
    }
    assert evaluate_gate(policy, REM, verdicts).passed  # 2 of 3 applicable EXIGENCE, DOC all conforme
    verdicts["DOC.01"] = "non conforme"
    failures = evaluate_gate(policy, REM, verdicts).failures
    assert any(f.startswith("section DOC") for f in failures)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - {requirement: NOPE.01, justification: 'une raison valable', expires: 2030-01-01}\n",
            "NOPE.01",
        ),
        ("waivers:\n  - {requirement: DOC.01, justification: 'x', expires: 2030-01-01}\n", "justification"),
        ("waivers:\n  - {requirement: DOC.01, justification: 'une raison valable'}\n", "expires"),
        ("thresholds:\n  nature: {EXIGENCE: 2}\n", "between 0 and 1"),
        ("thresholds:\n  sections: {ZZZ: 1}\n", "ZZZ"),
        ("- not a mapping\n", "expected a mapping"),
    ],
)
def test_bad_gate_files_name_the_entry(tmp_path, text, message):
    with pytest.raises(GateError, match=message):
        load_gate(_write(tmp_path, text), REM)


def test_waiver_passes_the_gate_and_stays_visible(tmp_path, capsys):
    until = (date.today() + timedelta(days=30)).isoformat()
    gate = _write(
        tmp_path,
        f"waivers:\n  - requirement: DOC.01\n    justification: correctif livré en version 4.2\n    expires: {until}\n",
    )
    out = tmp_path / "b"
    argv = [
        "run",
        "--only",
        "DOC.01",
        "--out",
        str(out),
        "--fault",
        "frcp_reopened_after_validation",
        "--gate",
        str(gate),
    ]
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["requirements"] == {"DOC.01": "non conforme"}  # the verdict itself is untouched
    assert manifest["gate"]["passed"] and manifest["gate"]["waivers"]["DOC.01"]["expires"] == until
    motifs = [
        row[10]
        for row in load_workbook(out / "recette-book.xlsx")["Recette"].iter_rows(min_row=2, values_only=True)
    ]
    assert all(m.startswith("dérogation jusqu'au") for m in motifs)


def test_expired_waiver_fails_the_gate(tmp_path, capsys):
    gate = _write(
        tmp_path,
        "waivers:\n  - {requirement: DOC.01, justification: correctif promis, expires: 2020-01-01}\n",
    )
    argv = [
        "run",
        "--only",
        "DOC.01",
        "--out",
        str(tmp_path / "b"),
        "--fault",
        "frcp_reopened_after_validation",
        "--gate",
        str(gate),
    ]
    assert main(argv) == 1
    assert "waiver of DOC.01 expired on 2020-01-01" in capsys.readouterr().out
