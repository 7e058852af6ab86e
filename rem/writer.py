"""Writes a ``Rem`` back as a spreadsheet in the ANS layout: our own REM DCC, generated REMs for benchmarks, and
the round-trip tests that prove the loader reads what the layout means.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rem import tabs
from rem.columns import MAX_PROOFS, PRE_PUBLICATION_HEADERS, PUBLISHED_HEADERS
from rem.model import Rem, Requirement, Scenario

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_WIDTHS = {"Énoncé": 70, "Scénario": 70, "Preuve": 40, "Section": 28, "Bloc": 30, "Fonction": 30}


def _conditional(requirement: Requirement) -> str:
    return {True: "OUI", False: "NON", None: "---"}[requirement.conditional]


def _proof_cells(requirement: Requirement, scenario: Scenario) -> list[str]:
    if len(scenario.proofs) > MAX_PROOFS:
        raise ValueError(f"{scenario.id}: {len(scenario.proofs)} proofs, the layout holds {MAX_PROOFS}")
    cells: list[str] = []
    for proof in scenario.proofs:
        cells += [proof.id, proof.text]
    return cells + [""] * (2 * MAX_PROOFS - len(cells))


def _extra_headers(rem: Rem) -> list[str]:
    seen: list[str] = []
    for requirement in rem.requirements:
        for header, _ in requirement.extra:
            if header not in seen:
                seen.append(header)
    return seen


def _published_row(requirement: Requirement, scenario: Scenario, extras: list[str]) -> list[str]:
    extra = dict(requirement.extra)
    return [
        _conditional(requirement),
        requirement.profil,
        requirement.section_id,
        requirement.section,
        requirement.bloc,
        requirement.fonction,
        requirement.nature.value,
        requirement.id,
        requirement.statement,
        scenario.id,
        scenario.text,
        *_proof_cells(requirement, scenario),
        *(extra.get(h, "") for h in extras),
    ]


def _pre_publication_row(requirement: Requirement, scenario: Scenario, extras: list[str]) -> list[str]:
    extra = dict(requirement.extra)
    comment = extra.pop("Commentaire", "")
    return [
        extra.pop("Périmètre", ""),
        requirement.id,
        requirement.section,
        requirement.fonction,
        requirement.statement,
        comment,
        requirement.nature.value,
        requirement.profil,
        scenario.id,
        scenario.text,
        *_proof_cells(requirement, scenario),
        extra.get("Statut publication", ""),
        extra.get("VA N-1", ""),
        extra.get("Criticité", ""),
        extra.get("Ordre", ""),
        _conditional(requirement),
        *(extra.get(h, "") for h in extras),
    ]


def write_rem(rem: Rem, path: str | Path, layout: str = "published") -> Path:
    """One row per scenario, the requirement columns repeated, proofs horizontally — as the ANS exports do."""
    path = Path(path)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Exigences"
    if layout == "published":
        extras = _extra_headers(rem)
        headers, make_row = [*PUBLISHED_HEADERS, *extras], _published_row
    elif layout == "pre-publication":
        fixed = set(PRE_PUBLICATION_HEADERS)
        extras = [h for h in _extra_headers(rem) if h not in fixed]
        headers, make_row = [*PRE_PUBLICATION_HEADERS, *extras], _pre_publication_row
    else:
        raise ValueError(f"unknown layout {layout!r} (published or pre-publication)")
    sheet.append(headers)
    for requirement in rem.requirements:
        for scenario in requirement.scenarios:
            sheet.append(make_row(requirement, scenario, extras))
    _format(sheet, headers)
    _write_tabs(workbook, rem)
    workbook.properties.title = "Référentiel d'Exigences Minimales"
    workbook.properties.version = rem.version
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    workbook.save(tmp)
    tmp.replace(path)  # never leave a half-written REM where a good one was
    return path


def _format(sheet, headers: list[str]) -> None:
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = next((w for prefix, w in _WIDTHS.items() if header.startswith(prefix)), 16)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _write_tabs(workbook, rem: Rem) -> None:
    if rem.business_scenarios:
        sheet = workbook.create_sheet(tabs.BUSINESS_SHEET)
        sheet.append(tabs.BUSINESS_HEADERS)
        for scenario in rem.business_scenarios:
            rows = max(len(scenario.steps), len(scenario.proofs), 1)
            for i in range(rows):
                step = scenario.steps[i] if i < len(scenario.steps) else ("", "")
                proof = scenario.proofs[i] if i < len(scenario.proofs) else None
                sheet.append(
                    [
                        scenario.id,
                        scenario.text if i == 0 else "",
                        *step,
                        proof.id if proof else "",
                        proof.text if proof else "",
                    ]
                )
    if rem.referentials:
        sheet = workbook.create_sheet(tabs.REFERENTIALS_SHEET)
        extras = sorted({h for r in rem.referentials for h, _ in r.extra})
        sheet.append([*tabs.REFERENTIALS_HEADERS, *extras])
        for ref in rem.referentials:
            sheet.append([ref.name, ref.version, ref.link, *(dict(ref.extra).get(h, "") for h in extras)])
    if rem.segur_documents:
        sheet = workbook.create_sheet(tabs.DOCUMENTS_SHEET)
        extras = sorted({h for d in rem.segur_documents for h, _ in d.extra})
        sheet.append([*tabs.DOCUMENTS_HEADERS, *extras])
        for doc in rem.segur_documents:
            sheet.append([doc.name, doc.type_code, doc.level, *(dict(doc.extra).get(h, "") for h in extras)])
