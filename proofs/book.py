"""The recette book (``recette-book.xlsx``): the REM's own columns, then the verdict, the proof files delivered
(links that open from the spreadsheet, relative to the bundle), the reason and the date — a sheet a GRADeS reviewer
can filter and annotate, and a summary per section."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rem.model import Rem
from rules.verdict import Outcome, combine

SHEET = "Recette"
SUMMARY = "Synthèse"
COLUMNS = (
    ("Section", 22),
    ("Fonction", 28),
    ("N° exigence", 13),
    ("Énoncé", 60),
    ("N° scénario", 14),
    ("Scénario", 60),
    ("N° preuve", 16),
    ("Preuve", 40),
    ("Verdict", 15),
    ("Fichiers de preuve", 45),
    ("Motif", 60),
    ("Date", 20),
)
VERDICT_COLUMN = 9  # 1-based, read back by verify
FILL = {
    "conforme": PatternFill("solid", fgColor="C6EFCE"),
    "non conforme": PatternFill("solid", fgColor="FFC7CE"),
    "non applicable": PatternFill("solid", fgColor="E7E6E6"),
    "non évalué": PatternFill("solid", fgColor="FFEB9C"),
}


def write_book(path: Path, rem: Rem, results: list[dict[str, Any]], finished: datetime) -> None:
    """``results`` are the manifest's result objects (requirement, scenario, verdict, reasons, expected_proofs)."""
    by_pair = {(r["requirement"], r["scenario"]): r for r in results}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append([name for name, _ in COLUMNS])
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.cell(1, index).font = Font(bold=True)
    date = finished.strftime("%Y-%m-%d %H:%M UTC")
    for requirement in rem.requirements:
        for scenario in requirement.scenarios:
            result = by_pair.get((requirement.id, scenario.id))
            if result is None:
                continue
            proofs = scenario.proofs or ()
            for proof in proofs or (None,):
                expected = next(
                    (p for p in result.get("expected_proofs", []) if proof and p["id"] == proof.id), None
                )
                files = expected["delivered"] if expected else []
                sheet.append(
                    [
                        requirement.section,
                        requirement.fonction,
                        requirement.id,
                        requirement.statement,
                        scenario.id,
                        scenario.text,
                        proof.id if proof else "",
                        proof.text if proof else "",
                        result["verdict"],
                        "\n".join(files),
                        "\n".join(result.get("reasons", [])[:5]),
                        date,
                    ]
                )
                row = sheet.max_row
                if files:
                    sheet.cell(row, 10).hyperlink = files[0]
                    sheet.cell(row, 10).style = "Hyperlink"
                sheet.cell(row, VERDICT_COLUMN).fill = FILL.get(result["verdict"], PatternFill())
                for column in (4, 6, 10, 11):
                    sheet.cell(row, column).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{sheet.max_row}"
    _summary(workbook.create_sheet(SUMMARY), rem, results)
    tmp = path.with_suffix(".tmp.xlsx")
    workbook.save(tmp)
    tmp.replace(path)


def _summary(sheet, rem: Rem, results: list[dict[str, Any]]) -> None:
    """Per section, how many requirements have each verdict (a requirement's verdict combines its scenarios)."""
    outcomes: dict[str, list[Outcome]] = defaultdict(list)
    for result in results:
        outcomes[result["requirement"]].append(Outcome(result["verdict"]))
    per_section: dict[str, Counter] = defaultdict(Counter)
    names = {}
    for requirement in rem.requirements:
        if requirement.id in outcomes:
            per_section[requirement.section_id][combine(outcomes[requirement.id]).value] += 1
            names[requirement.section_id] = requirement.section
    header = ["Section", "Intitulé", "Exigences", *FILL]
    sheet.append(header)
    for index in range(1, len(header) + 1):
        sheet.cell(1, index).font = Font(bold=True)
    for section, counts in per_section.items():
        sheet.append([section, names[section], sum(counts.values()), *(counts.get(v, 0) for v in FILL)])
    total = Counter()
    for counts in per_section.values():
        total.update(counts)
    sheet.append(["Total", "", sum(total.values()), *(total.get(v, 0) for v in FILL)])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for offset, verdict in enumerate(FILL, start=4):
        sheet.cell(1, offset).fill = FILL[verdict]
    for column, width in zip("ABCDEFG", (12, 45, 11, 12, 14, 15, 12), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
