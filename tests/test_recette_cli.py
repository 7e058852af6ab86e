"""`dcc-recette recette` (what `make recette` runs): the REM and the rules are checked, the scenarios run against
the reference DCC, the bundle and the book are written and their path printed; a defective REM stops it."""

import json

from harness.cli import main
from tests.rem.conftest import row, write_sheet


def test_recette_checks_the_rem_and_the_rules(tmp_path, capsys):
    # the whole recette runs in tests/scenarios and in the fault proof; here the command's own work, on DOC
    assert main(["recette", "--out", str(tmp_path), "--only", "DOC"]) == 0
    out = capsys.readouterr().out
    assert "114" in out and str(tmp_path / "recette-book.xlsx") in out.replace("\n", "")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {r["requirement"] for r in manifest["results"]} == {f"DOC.0{i}" for i in range(1, 10)}
    assert all(r["verdict"] == "conforme" for r in manifest["results"])
    assert json.loads((tmp_path / "rem-summary.json").read_text())["requirements"] == 114
    rules = json.loads((tmp_path / "rules-check.json").read_text())
    assert rules["unbound"] == [] and len(rules["manual"]) == 6


def test_recette_stops_on_a_rem_with_errors(tmp_path, capsys):
    bad = write_sheet(
        tmp_path / "bad.xlsx", [row("A.01", "A.01.01", proofs=[("A.01.01.01", "p"), ("A.01.01.01", "q")])]
    )
    assert main(["recette", "--rem", str(bad), "--out", str(tmp_path / "out")]) == 1
    assert "cannot start" in capsys.readouterr().out
