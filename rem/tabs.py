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


def _listing(workbook, issues: list[Issue], title: str, columns: tuple[tuple[str, ...], ...], make):
    """A tab of one row per item: the first of ``columns`` (alternative header words) names the item and is
    required; the other two are optional; every other column is kept as extra."""
    sheet = _sheet(workbook, title)
    if sheet is None:
        return ()
    header, body = _rows(sheet)
    found = [
        next((i for i in (_find(header, word) for word in words) if i is not None), None) for words in columns
    ]
    name = found[0]
    if name is None:
        issues.append(
            Issue(Severity.WARNING, sheet.title, 1, None, f"no {columns[0][0]!r} column; tab ignored")
        )
        return ()
    known = set(found)
    return tuple(
        make(
            values[name],
            *(values[i] if i is not None else "" for i in found[1:]),
            _extras(header, values, known),
        )
        for _, values in body
        if values[name]
    )


def _referentials(workbook, issues: list[Issue]) -> tuple[Referential, ...]:
    return _listing(
        workbook,
        issues,
        REFERENTIALS_SHEET,
        (("referentiel", "nom", "titre"), ("version",), ("lien", "url")),
        Referential,
    )


def _documents(workbook, issues: list[Issue]) -> tuple[SegurDocument, ...]:
    return _listing(workbook, issues, DOCUMENTS_SHEET, (("document",), ("type",), ("niveau",)), SegurDocument)
