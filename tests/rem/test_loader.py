"""The loader reads the published layout, tolerates what real sheets do to it, and names every defect's cell."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from openpyxl import Workbook

from rem.columns import PRE_PUBLICATION_HEADERS, PUBLISHED_HEADERS
from rem.loader import RemFormatError, load_rem
from rem.model import Nature, Severity
from tests.rem.conftest import row

TEMPLATE = (
    Path(__file__).resolve().parents[3] / "shared" / "rem-format" / "template-segur-requirement-export.xlsx"
)


def messages(result, severity=None):
    return [(i.sheet, i.row, i.column, i.message) for i in result.issues if severity in (None, i.severity)]


def test_groups_rows_into_requirements_scenarios_and_proofs(sheet):
    path = sheet(
        [
            row(
                "INS.01", "INS.01.01", proofs=[("INS.01.01.01", "Capture d'écran"), ("INS.01.01.02", "Trace")]
            ),
            row("INS.01", "INS.01.02", proofs=[("INS.01.02.01", "Source SMTP du message")]),
            row(
                "DMP/ALIM.03",
                "DMP/ALIM.03.01",
                proofs=[("DMP/ALIM.03.01.01", "Fichier CDA")],
                section_id="DMP/ALIM",
            ),
        ]
    )
    result = load_rem(path)
    assert result.issues == []
    rem = result.rem
    assert [r.id for r in rem.requirements] == ["INS.01", "DMP/ALIM.03"]
    ins = rem.requirement("INS.01")
    assert [s.id for s in ins.scenarios] == ["INS.01.01", "INS.01.02"]
    assert [p.id for p in ins.proofs] == ["INS.01.01.01", "INS.01.01.02", "INS.01.02.01"]
    assert ins.nature is Nature.EXIGENCE and ins.conditional is False and ins.profil == "Général"
    assert rem.requirement("DMP/ALIM.03").section_id == "DMP/ALIM"
    assert len(rem.sha256) == 64 and rem.layout == "published"


def test_ans_template_loads_and_reports_its_blank_proof_numbers():
    result = load_rem(TEMPLATE)
    assert [r.id for r in result.rem.requirements] == ["MSS/CDA.01"]
    assert result.errors == []
    proof_warnings = [i for i in result.warnings if "proof" in i.message]
    assert len(proof_warnings) == 9
    assert {(i.row, i.column) for i in proof_warnings} >= {(2, "N"), (2, "AD")}
    assert [p.id for p in result.rem.proofs] == ["MSS/CDA.01.01.01"]


def test_shuffled_columns_extra_columns_and_retyped_headers(sheet):
    good = row("PSC.08", "PSC.08.01", proofs=[("PSC.08.01.01", "Capture")])
    headers = list(PUBLISHED_HEADERS)
    order = list(range(len(headers)))
    random.Random(7).shuffle(order)
    shuffled_headers = [headers[i] for i in order] + ["Commentaire ARS"]
    # accents dropped, line breaks and stray spaces, as people retype them
    shuffled_headers = [
        {
            "N° exigence": " N°\nexigence ",
            "Énoncé de l'exigence (DOIT) ou de la préconisation (PEUT)": "Enonce de l exigence",
        }.get(h, h)
        for h in shuffled_headers
    ]
    shuffled_row = [good[i] for i in order] + ["à revoir"]
    path = sheet([shuffled_row], headers=shuffled_headers)
    result = load_rem(path)
    assert result.issues == []
    requirement = result.rem.requirement("PSC.08")
    assert requirement.statement == "Le système DOIT faire X."
    assert [p.id for p in requirement.proofs] == ["PSC.08.01.01"]
    assert requirement.extra == (("Commentaire ARS", "à revoir"),)


def test_real_sheet_defects_are_warnings_with_their_cells(sheet):
    rows = [
        # a proof number that repeats its scenario number
        row("INS.03", "INS.03.01", proofs=[("INS.03.01", "Capture d'écran")]),
        # the same requirement text differing between its scenario rows (beyond whitespace)
        row("INS.03", "INS.03.02", statement="Le système DOIT faire Y.", proofs=[("INS.03.02.01", "Trace")]),
        # blank proof number with a text; a number with no text
        row("INS.04", "INS.04.01", proofs=[(None, "Démonstration"), ("INS.04.01.02", None)]),
        # non-breaking spaces
        row(
            "INS.05",
            "INS.05.01",
            statement="Le système\u00a0DOIT tracer.",
            proofs=[("INS.05.01.01", "Trace")],
        ),
    ]
    result = load_rem(sheet(rows))
    assert result.errors == []
    warnings = messages(result, Severity.WARNING)
    assert ("Exigences", 2, "L", "proof number INS.03.01 repeats its scenario number") in warnings
    assert ("Exigences", 3, "I", "INS.03: statement differs from row 2; row 2's text is kept") in warnings
    assert ("Exigences", 4, "L", "proof 1 has no number; read as INS.04.01.01") in warnings
    assert ("Exigences", 4, "O", "proof INS.04.01.02 has a number but no text") in warnings
    assert ("Exigences", 5, "I", "non-breaking space replaced by a space") in warnings
    rem = result.rem
    assert [p.id for p in rem.requirement("INS.03").proofs] == ["INS.03.01.01", "INS.03.02.01"]
    assert rem.requirement("INS.03").statement == "Le système DOIT faire X."
    assert rem.requirement("INS.05").statement == "Le système DOIT tracer."


def test_whitespace_only_differences_between_rows_are_not_reported(sheet):
    rows = [
        row("A.01", "A.01.01", statement="Le système DOIT  faire X.", proofs=[("A.01.01.01", "p")]),
        row("A.01", "A.01.02", statement="Le système DOIT faire\nX.", proofs=[("A.01.02.01", "p")]),
    ]
    assert load_rem(sheet(rows)).issues == []


def test_errors_keep_the_rest_loading(sheet):
    rows = [
        row("A.01", "A.01.01", proofs=[("A.01.01.01", "p")]),
        row("A.01", "A.01.01", proofs=[("A.01.01.01", "p")]),  # duplicate scenario
        [None] * 7 + [None, "Le système DOIT", "X.01.01"],  # no requirement number
        row("A.02", "A.02.01", proofs=[("A.02.01.01", "p"), ("A.02.01.01", "q")]),  # duplicate proof
    ]
    result = load_rem(sheet(rows))
    errors = messages(result, Severity.ERROR)
    assert ("Exigences", 3, "J", "duplicate scenario A.01.01; row skipped") in errors
    assert ("Exigences", 4, "H", "row has content but no requirement number; skipped") in errors
    assert ("Exigences", 5, "N", "duplicate proof A.02.01.01; ignored") in errors
    assert [r.id for r in result.rem.requirements] == ["A.01", "A.02"]


def test_nature_and_conditional_inconsistencies(sheet):
    rows = [
        row("A.01", "A.01.01", statement="Le système PEUT faire X.", nature="", proofs=[("A.01.01.01", "p")]),
        row("A.02", "A.02.01", conditionnelle="OUI", profil="Général", proofs=[("A.02.01.01", "p")]),
        row("A.03", "A.03.01", conditionnelle="NON", profil="PS libéral", proofs=[("A.03.01.01", "p")]),
        row(
            "A.04",
            "A.04.01",
            conditionnelle="---",
            profil="",
            nature="Préconisation",
            proofs=[("A.04.01.01", "p")],
        ),
    ]
    result = load_rem(sheet(rows))
    rem = result.rem
    assert rem.requirement("A.01").nature is Nature.PRECONISATION
    assert (
        rem.requirement("A.04").nature is Nature.PRECONISATION and rem.requirement("A.04").conditional is None
    )
    texts = [i.message for i in result.warnings]
    assert "A.01: empty nature; read as PRECONISATION" in texts
    assert "A.02: conditional but profile 'Général'" in texts
    assert "A.03: not conditional but profile 'PS libéral'" in texts


def test_pre_publication_layout_is_accepted(sheet):
    cells = [
        "DCC",
        "INS.01",
        "Identité",
        "Qualification",
        "Le système DOIT qualifier.",
        "note",
        "EXIGENCE",
        "Général",
        "INS.01.01",
        "Scénario",
        "INS.01.01.01",
        "Capture",
    ]
    cells += [None] * (len(PRE_PUBLICATION_HEADERS) - len(cells))
    cells[-5:] = ["Publiée", "", "Majeure", "3", "NON"]
    result = load_rem(sheet([cells], headers=PRE_PUBLICATION_HEADERS))
    assert result.issues == []
    rem = result.rem
    assert rem.layout == "pre-publication"
    requirement = rem.requirement("INS.01")
    assert requirement.section_id == "INS" and requirement.section == "Identité"
    assert requirement.conditional is False
    assert dict(requirement.extra)["Criticité"] == "Majeure"
    assert dict(requirement.extra)["Commentaire"] == "note"


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_text("N° exigence;Énoncé\nA.01;x\n"), "not an .xlsx workbook"),
        (lambda p: p.write_bytes(b""), "not an .xlsx workbook"),
        (lambda p: Workbook().save(p), "no REM header row"),
    ],
)
def test_files_that_are_not_a_rem_fail_with_one_line(tmp_path, make, reason):
    path = tmp_path / "bad.xlsx"
    make(path)
    with pytest.raises(RemFormatError) as caught:
        load_rem(path)
    assert reason in str(caught.value) and "\n" not in str(caught.value) and "bad.xlsx" in str(caught.value)


def test_header_without_mandatory_columns_is_named(sheet):
    headers = [h for h in PUBLISHED_HEADERS if h != "N° scénario"]
    with pytest.raises(RemFormatError, match="lacks the column\\(s\\) 'N° scénario'"):
        load_rem(sheet([["NON"] * len(headers)], headers=headers))


def test_header_only_sheet_is_not_a_rem(sheet):
    with pytest.raises(RemFormatError, match="no requirement rows"):
        load_rem(sheet([]))


def test_sheet_not_named_exigences_is_read_with_a_warning(sheet):
    result = load_rem(sheet([row("A.01", "A.01.01", proofs=[("A.01.01.01", "p")])], title="Feuil1"))
    assert [r.id for r in result.rem.requirements] == ["A.01"]
    assert [i.message for i in result.warnings] == ["no sheet named 'Exigences'; read this one"]
