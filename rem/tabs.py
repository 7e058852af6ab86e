"""The REM's optional tabs: "Scénarios coeur de métier", "Liste Référentiels", "Liste des documents Ségur".

The cahier des charges (1.6.2.2, 2.1.3) names them but their column layout is not published; the loader finds the
columns it knows by header words and keeps the others verbatim, so a differently laid-out tab still loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from rem.columns import normalise_header
from rem.model import BusinessScenario, Issue, Proof, Referential, SegurDocument, Severity

BUSINESS_SHEET = "Scénarios coeur de métier"
REFERENTIALS_SHEET = "Liste Référentiels"
DOCUMENTS_SHEET = "Liste des documents Ségur"

BUSINESS_HEADERS = ("N° scénario", "Scénario", "N° étape", "Étape", "N° preuve", "Preuve")
REFERENTIALS_HEADERS = ("Référentiel", "Version", "Lien")
DOCUMENTS_HEADERS = ("Document", "Type de document (LOINC)", "Niveau d'interopérabilité")


@dataclass(frozen=True)
class OptionalTabs:
    business_scenarios: tuple[BusinessScenario, ...] = ()
    referentials: tuple[Referential, ...] = ()
    segur_documents: tuple[SegurDocument, ...] = ()


def _sheet(workbook, title: str):
    wanted = normalise_header(title)
    for sheet in workbook.worksheets:
        if normalise_header(sheet.title) == wanted:
            return sheet
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u00a0", " ").strip()


def _rows(sheet) -> tuple[list[str], list[tuple[int, list[str]]]]:
    rows = sheet.iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())]
    body = []
    for number, row in enumerate(rows, start=2):
        values = [_text(v) for v in row]
        if any(values):
            body.append((number, values + [""] * (len(header) - len(values))))
    return header, body


def _find(header: list[str], *words: str) -> int | None:
    for index, title in enumerate(header):
        key = normalise_header(title)
        if all(word in key for word in words):
            return index
    return None


def load_optional_tabs(workbook, issues: list[Issue]) -> OptionalTabs:
    return OptionalTabs(
        business_scenarios=_business(workbook, issues),
        referentials=_referentials(workbook, issues),
        segur_documents=_documents(workbook, issues),
    )


def _business(workbook, issues: list[Issue]) -> tuple[BusinessScenario, ...]:
    sheet = _sheet(workbook, BUSINESS_SHEET)
    if sheet is None:
        return ()
    header, body = _rows(sheet)
    id_col = _find(header, "n", "scenario")
    text_col = next((i for i, h in enumerate(header) if normalise_header(h) == "scenario"), None)
    step_id, step_text = (
        _find(header, "n", "etape"),
        next((i for i, h in enumerate(header) if normalise_header(h) == "etape"), None),
    )
    proof_id, proof_text = (
        _find(header, "n", "preuve"),
        next((i for i, h in enumerate(header) if normalise_header(h) == "preuve"), None),
    )
    if id_col is None:
        issues.append(Issue(Severity.WARNING, sheet.title, 1, None, "no 'N° scénario' column; tab ignored"))
        return ()
    order: list[str] = []
    data: dict[str, dict] = {}
    for number, values in body:
        scenario_id = values[id_col]
        if not scenario_id:
            issues.append(
                Issue(
                    Severity.WARNING,
                    sheet.title,
                    number,
                    get_column_letter(id_col + 1),
                    "row without scenario id",
                )
            )
            continue
        entry = data.setdefault(scenario_id, {"text": "", "steps": [], "proofs": []})
        if scenario_id not in order:
            order.append(scenario_id)
        if text_col is not None and values[text_col] and not entry["text"]:
            entry["text"] = values[text_col]
        if step_id is not None and values[step_id]:
            entry["steps"].append((values[step_id], values[step_text] if step_text is not None else ""))
        if proof_id is not None and values[proof_id]:
            entry["proofs"].append(
                Proof(values[proof_id], values[proof_text] if proof_text is not None else "")
            )
    return tuple(
        BusinessScenario(sid, data[sid]["text"], tuple(data[sid]["steps"]), tuple(data[sid]["proofs"]))
        for sid in order
    )


def _extras(header: list[str], values: list[str], known: set[int | None]) -> tuple[tuple[str, str], ...]:
    return tuple((header[i], v) for i, v in enumerate(values) if i not in known and i < len(header) and v)


def _referentials(workbook, issues: list[Issue]) -> tuple[Referential, ...]:
    sheet = _sheet(workbook, REFERENTIALS_SHEET)
    if sheet is None:
        return ()
    header, body = _rows(sheet)
    name = _find(header, "referentiel")
    if name is None:
        name = _find(header, "nom") if _find(header, "nom") is not None else _find(header, "titre")
    version, link = _find(header, "version"), _find(header, "lien")
    if link is None:
        link = _find(header, "url")
    if name is None:
        issues.append(Issue(Severity.WARNING, sheet.title, 1, None, "no 'Référentiel' column; tab ignored"))
        return ()
    known = {name, version, link}
    return tuple(
        Referential(
            values[name],
            values[version] if version is not None else "",
            values[link] if link is not None else "",
            _extras(header, values, known),
        )
        for _, values in body
        if values[name]
    )


def _documents(workbook, issues: list[Issue]) -> tuple[SegurDocument, ...]:
    sheet = _sheet(workbook, DOCUMENTS_SHEET)
    if sheet is None:
        return ()
    header, body = _rows(sheet)
    name = _find(header, "document")
    type_col, level = _find(header, "type"), _find(header, "niveau")
    if name is None:
        issues.append(Issue(Severity.WARNING, sheet.title, 1, None, "no 'Document' column; tab ignored"))
        return ()
    known = {name, type_col, level}
    return tuple(
        SegurDocument(
            values[name],
            values[type_col] if type_col is not None else "",
            values[level] if level is not None else "",
            _extras(header, values, known),
        )
        for _, values in body
        if values[name]
    )
