"""``rem diff`` shows exactly the edits made; the CLI's JSON has the keys the issue names; bad files exit 2."""

from __future__ import annotations

import dataclasses
import json

from harness.cli import main
from rem.diff import diff_rems
from rem.model import Nature, Proof, Rem, Requirement, Scenario
from rem.writer import write_rem


def base_rem() -> Rem:
    def req(rid, statement, n_scenarios=1):
        scenarios = tuple(
            Scenario(f"{rid}.{s:02d}", f"Étapes {s}", (Proof(f"{rid}.{s:02d}.01", "Capture d'écran"),))
            for s in range(1, n_scenarios + 1)
        )
        return Requirement(
            rid,
            rid.rsplit(".", 1)[0],
            "Section",
            "2.3.2",
            "Fonction",
            Nature.EXIGENCE,
            statement,
            scenarios=scenarios,
        )

    return Rem(
        "REM_DCC_2025.01.xlsx",
        "",
        "2025.01",
        (
            req("INS.01", "Le système DOIT vérifier la clé du matricule INS."),
            req("INS.02", "Le système DOIT historiser chaque changement de statut.", 2),
            req("DMP/ALIM.01", "LORSQUE une FRCP est validée, ALORS le système DOIT l'envoyer au DMP."),
        ),
    )


def edited_rem() -> Rem:
    old = base_rem()
    ins01, ins02, _dmp = old.requirements
    ins01 = dataclasses.replace(
        ins01, statement="Le système DOIT vérifier la clé du matricule INS et son OID."
    )
    s1, _s2 = ins02.scenarios
    s1 = dataclasses.replace(
        s1, proofs=(Proof(s1.proofs[0].id, "Source SMTP du message"), Proof(f"{s1.id}.02", "Trace INSi"))
    )
    ins02 = dataclasses.replace(ins02, scenarios=(s1,))
    new_req = Requirement(
        "TBB.01",
        "TBB",
        "Tableau de bord",
        "2.4",
        "Indicateurs",
        Nature.PRECONISATION,
        "Le système PEUT produire les indicateurs.",
        scenarios=(Scenario("TBB.01.01", "x", (Proof("TBB.01.01.01", "Extraction"),)),),
    )
    return dataclasses.replace(old, version="2025.02", requirements=(ins01, ins02, new_req))


def test_diff_reports_exactly_the_edits():
    diff = diff_rems(base_rem(), edited_rem()).to_json()
    assert diff == {
        "old_version": "2025.01",
        "new_version": "2025.02",
        "added": ["TBB.01"],
        "removed": ["DMP/ALIM.01"],
        "changed": [
            {
                "id": "INS.01",
                "fields": {
                    "statement": {
                        "old": "Le système DOIT vérifier la clé du matricule INS.",
                        "new": "Le système DOIT vérifier la clé du matricule INS et son OID.",
                    }
                },
            },
            {
                "id": "INS.02",
                "scenarios_removed": ["INS.02.02"],
                "scenarios_changed": [
                    {
                        "id": "INS.02.01",
                        "proofs_added": ["INS.02.01.02"],
                        "proofs_changed": [
                            {"id": "INS.02.01.01", "old": "Capture d'écran", "new": "Source SMTP du message"}
                        ],
                    }
                ],
            },
        ],
    }


def test_diff_of_a_rem_with_itself_is_empty_even_with_retyped_whitespace():
    old = base_rem()
    retyped = dataclasses.replace(
        old,
        requirements=tuple(
            dataclasses.replace(r, statement=r.statement.replace(" ", "\u00a0 ")) for r in old.requirements
        ),
    )
    assert diff_rems(old, retyped).empty


def test_cli_diff_on_files(tmp_path, capsys):
    old = write_rem(base_rem(), tmp_path / "REM_DCC_2025.01.xlsx")
    new = write_rem(edited_rem(), tmp_path / "REM_DCC_2025.02.xlsx")
    assert main(["rem", "diff", str(old), str(new), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == ["TBB.01"] and out["removed"] == ["DMP/ALIM.01"]
    assert [c["id"] for c in out["changed"]] == ["INS.01", "INS.02"]
    assert main(["rem", "diff", str(old), str(old)]) == 0
    assert "no difference" in capsys.readouterr().out
    assert main(["rem", "diff", str(old), str(new)]) == 1
    text = capsys.readouterr().out
    assert "+ TBB.01 (new requirement)" in text and "- DMP/ALIM.01 (removed)" in text
    assert "+ proof INS.02.01.02" in text


def test_cli_load_json_keys(tmp_path, capsys):
    path = write_rem(base_rem(), tmp_path / "REM_DCC_2025.01.xlsx")
    assert main(["rem", "load", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["requirements"], out["scenarios"], out["proofs"]) == (3, 4, 4)
    assert out["sections"] == {"DMP/ALIM": 1, "INS": 2}
    assert out["errors"] == [] and out["warnings"] == []


def test_cli_load_reports_cells_and_exits_1_on_errors(tmp_path, capsys):
    from tests.rem.conftest import row, write_sheet

    path = write_sheet(
        tmp_path / "r.xlsx", [row("A.01", "A.01.01", proofs=[("A.01.01.01", "p"), ("A.01.01.01", "q")])]
    )
    assert main(["rem", "load", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == [
        {"sheet": "Exigences", "row": 2, "column": "N", "message": "duplicate proof A.01.01.01; ignored"}
    ]


def test_cli_not_a_rem_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("hello")
    assert main(["rem", "load", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not an .xlsx workbook" in err


def test_cli_show(tmp_path, capsys):
    path = write_rem(base_rem(), tmp_path / "REM_DCC_2025.01.xlsx")
    assert main(["rem", "show", "DMP/ALIM.01", "--rem", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clauses"][0]["kind"] == "lorsque" and out["clauses"][0]["then"][0]["kind"] == "doit"
    assert main(["rem", "show", "NOPE.01", "--rem", str(path)]) == 2
    assert "no such requirement" in capsys.readouterr().err
