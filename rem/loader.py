"""Loads a REM spreadsheet (ANS published layout, or the 41-column pre-publication one) into ``rem.model.Rem``.

Real REM sheets have defects. The loader reports each with its sheet, row and column and keeps going wherever the
meaning stays clear; only a file it cannot understand at all raises ``RemFormatError`` (the CLI exits 2 on it).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from rem import tabs
from rem.columns import ColumnMap, map_columns, normalise_header, score
from rem.model import Issue, Nature, Proof, Rem, Requirement, Scenario, Severity
from rem.statement import normalise

REQUIREMENTS_SHEET = "Exigences"
HEADER_SEARCH_ROWS = 15
_NBSP = ("\u00a0", "\u202f", "\u2007")
_VERSION_IN_NAME = re.compile(r"(\d{4}\.\d{2}(?:\.\d+)?)")


class RemFormatError(ValueError):
    """The file cannot be understood as a REM at all. The message is one line naming the file and the place."""


@dataclass
class LoadResult:
    rem: Rem
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]


def load_rem(path: str | Path) -> LoadResult:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RemFormatError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if not zipfile.is_zipfile(path):
        raise RemFormatError(f"{path}: not an .xlsx workbook (it is not a ZIP/OOXML file)")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise RemFormatError(f"{path}: not a readable .xlsx workbook ({error})") from None
    try:
        return _load_workbook(path, workbook, hashlib.sha256(content).hexdigest())
    finally:
        workbook.close()


def _load_workbook(path: Path, workbook, sha256: str) -> LoadResult:
    issues: list[Issue] = []
    sheet, columns = _find_requirements_sheet(path, workbook, issues)
    rows = sheet.iter_rows(min_row=columns.header_row + 1, values_only=True)
    builder = _RequirementsBuilder(sheet.title, columns, issues)
    for offset, row in enumerate(rows, start=columns.header_row + 1):
        builder.add_row(offset, row)
    requirements = builder.requirements()
    if not requirements:
        raise RemFormatError(
            f"{path}: sheet {sheet.title!r} has a REM header on row {columns.header_row} but no requirement rows"
        )
    extra = tabs.load_optional_tabs(workbook, issues)
    version = _version(path, workbook)
    rem = Rem(
        source=path.name,
        sha256=sha256,
        version=version,
        requirements=tuple(requirements),
        business_scenarios=extra.business_scenarios,
        referentials=extra.referentials,
        segur_documents=extra.segur_documents,
        layout=columns.layout,
    )
    return LoadResult(rem, issues)


def _version(path: Path, workbook) -> str:
    declared = (workbook.properties.version or "").strip() if workbook.properties else ""
    if declared:
        return declared
    match = _VERSION_IN_NAME.search(path.stem)
    return match.group(1) if match else "unknown"


def _find_requirements_sheet(path: Path, workbook, issues: list[Issue]) -> tuple[object, ColumnMap]:
    """The "Exigences" sheet (any accent/case), else the one sheet whose header names the REM columns."""
    if not workbook.sheetnames:
        raise RemFormatError(f"{path}: the workbook has no sheet")
    named = [ws for ws in workbook.worksheets if normalise_header(ws.title) == "exigences"]
    candidates = named or list(workbook.worksheets)
    best: tuple[int, object, ColumnMap] | None = None
    for sheet in candidates:
        columns = _find_header(sheet)
        if columns is not None and (best is None or len(columns.fields) > best[0]):
            best = (len(columns.fields), sheet, columns)
    if best is None:
        where = (
            f"sheet {named[0].title!r}" if named else f"sheets {', '.join(map(repr, workbook.sheetnames))}"
        )
        raise RemFormatError(
            f"{path}: no REM header row in the first {HEADER_SEARCH_ROWS} rows of {where} "
            "(expected columns such as 'N° exigence', 'Énoncé de l'exigence', 'N° scénario')"
        )
    _, sheet, columns = best
    if not named:
        issues.append(
            Issue(
                Severity.WARNING,
                sheet.title,
                None,
                None,
                f"no sheet named {REQUIREMENTS_SHEET!r}; read this one",
            )
        )
    missing = columns.missing()
    if missing:
        labels = {
            "requirement_id": "N° exigence",
            "statement": "Énoncé de l'exigence",
            "scenario_id": "N° scénario",
        }
        raise RemFormatError(
            f"{path}: sheet {sheet.title!r} header row {columns.header_row} lacks the column(s) "
            + ", ".join(repr(labels[m]) for m in missing)
        )
    for name, kept, ignored in columns.duplicates:
        issues.append(
            Issue(
                Severity.WARNING,
                sheet.title,
                columns.header_row,
                get_column_letter(ignored + 1),
                f"second column for {name!r}; column {get_column_letter(kept + 1)} is used",
            )
        )
    return sheet, columns


def _find_header(sheet) -> ColumnMap | None:
    best: ColumnMap | None = None
    for number, row in enumerate(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1):
        if score(row) >= 3:
            candidate = map_columns(row, number)
            if best is None or len(candidate.fields) > len(best.fields):
                best = candidate
    return best


class _RequirementsBuilder:
    """Groups scenario rows into requirements, checking the consistency the published layout implies."""

    def __init__(self, sheet: str, columns: ColumnMap, issues: list[Issue]) -> None:
        self.sheet = sheet
        self.columns = columns
        self.issues = issues
        self.order: list[str] = []
        self.first_row: dict[str, tuple[int, dict[str, str]]] = {}
        self.scenarios: dict[str, list[Scenario]] = {}
        self.extras: dict[str, tuple[tuple[str, str], ...]] = {}

    def _issue(self, severity: Severity, row: int, name: str | None, message: str) -> None:
        column = self.columns.letter(name) if name else None
        self.issues.append(Issue(severity, self.sheet, row, column, message))

    def _cell(self, row_number: int, row: tuple[object, ...], index: int, name: str) -> str:
        value = row[index] if index < len(row) else None
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value)
        if any(ch in text for ch in _NBSP):
            self.issues.append(
                Issue(
                    Severity.WARNING,
                    self.sheet,
                    row_number,
                    get_column_letter(index + 1),
                    "non-breaking space replaced by a space",
                )
            )
            for ch in _NBSP:
                text = text.replace(ch, " ")
        return text.strip()

    def _values(self, number: int, row: tuple[object, ...]) -> dict[str, str]:
        return {name: self._cell(number, row, index, name) for name, index in self.columns.fields.items()}

    def add_row(self, number: int, row: tuple[object, ...]) -> None:
        if not any(v is not None and str(v).strip() for v in row):
            return
        values = self._values(number, row)
        requirement_id = values.get("requirement_id", "")
        if not requirement_id:
            self._issue(
                Severity.ERROR, number, "requirement_id", "row has content but no requirement number; skipped"
            )
            return
        if requirement_id not in self.first_row:
            self.order.append(requirement_id)
            self.first_row[requirement_id] = (number, values)
            self.scenarios[requirement_id] = []
            self.extras[requirement_id] = tuple(
                (header, self._cell(number, row, index, header))
                for index, header in sorted(self.columns.extras.items())
                if self._cell(number, row, index, header)
            )
        else:
            self._compare_with_first(requirement_id, number, values)
        scenario = self._scenario(requirement_id, number, values)
        if scenario is not None:
            self.scenarios[requirement_id].append(scenario)

    def _compare_with_first(self, requirement_id: str, number: int, values: dict[str, str]) -> None:
        first_number, first = self.first_row[requirement_id]
        for name in (
            "statement",
            "section_id",
            "section",
            "bloc",
            "fonction",
            "nature",
            "profil",
            "conditionnelle",
        ):
            if name not in values:
                continue
            same = (
                normalise(values[name]) == normalise(first[name])
                if name == "statement"
                else (values[name] == first[name])
            )
            if not same:
                self._issue(
                    Severity.WARNING,
                    number,
                    name,
                    f"{requirement_id}: {name} differs from row {first_number}; row {first_number}'s text is kept",
                )

    def _scenario(self, requirement_id: str, number: int, values: dict[str, str]) -> Scenario | None:
        scenario_id = values.get("scenario_id", "")
        text = values.get("scenario", "")
        existing = self.scenarios[requirement_id]
        if not scenario_id:
            if not text and not self._has_proofs(values):
                self._issue(
                    Severity.WARNING, number, "scenario_id", f"{requirement_id}: row without a scenario"
                )
                return None
            scenario_id = f"{requirement_id}.{len(existing) + 1:02d}"
            self._issue(
                Severity.WARNING, number, "scenario_id", f"scenario without number; read as {scenario_id}"
            )
        elif not scenario_id.startswith(requirement_id + "."):
            self._issue(
                Severity.WARNING,
                number,
                "scenario_id",
                f"scenario {scenario_id} is not numbered under {requirement_id}",
            )
        if any(s.id == scenario_id for s in existing):
            self._issue(
                Severity.ERROR, number, "scenario_id", f"duplicate scenario {scenario_id}; row skipped"
            )
            return None
        if not text:
            self._issue(Severity.WARNING, number, "scenario", f"{scenario_id}: empty scenario text")
        return Scenario(scenario_id, text, self._proofs(scenario_id, number, values), row=number)

    def _has_proofs(self, values: dict[str, str]) -> bool:
        return any(values.get(f"proof_id_{k}") or values.get(f"proof_{k}") for k in self.columns.proof_slots)

    def _proofs(self, scenario_id: str, number: int, values: dict[str, str]) -> tuple[Proof, ...]:
        proofs: list[Proof] = []
        for slot in self.columns.proof_slots:
            id_field, text_field = f"proof_id_{slot}", f"proof_{slot}"
            proof_id, text = values.get(id_field, ""), values.get(text_field, "")
            if not proof_id and not text:
                continue
            if proof_id == scenario_id:
                self._issue(
                    Severity.WARNING, number, id_field, f"proof number {proof_id} repeats its scenario number"
                )
                proof_id = ""
            if not proof_id:
                if any(p.text == text for p in proofs):
                    self._issue(
                        Severity.WARNING,
                        number,
                        id_field,
                        f"proof {slot} repeats an earlier proof with no number; ignored",
                    )
                    continue
                proof_id = self._next_proof_id(scenario_id, proofs)
                self._issue(
                    Severity.WARNING, number, id_field, f"proof {slot} has no number; read as {proof_id}"
                )
            elif not proof_id.startswith(scenario_id + "."):
                self._issue(
                    Severity.WARNING,
                    number,
                    id_field,
                    f"proof {proof_id} is not numbered under scenario {scenario_id}",
                )
            if not text:
                self._issue(
                    Severity.WARNING, number, text_field, f"proof {proof_id} has a number but no text"
                )
            if any(p.id == proof_id for p in proofs):
                self._issue(Severity.ERROR, number, id_field, f"duplicate proof {proof_id}; ignored")
                continue
            proofs.append(Proof(proof_id, text))
        return tuple(proofs)

    @staticmethod
    def _next_proof_id(scenario_id: str, proofs: Iterable[Proof]) -> str:
        taken = {p.id for p in proofs}
        n = 1
        while f"{scenario_id}.{n:02d}" in taken:
            n += 1
        return f"{scenario_id}.{n:02d}"

    def requirements(self) -> list[Requirement]:
        return [self._requirement(rid) for rid in self.order]

    def _requirement(self, requirement_id: str) -> Requirement:
        number, values = self.first_row[requirement_id]
        statement = values.get("statement", "")
        if not statement:
            self._issue(Severity.ERROR, number, "statement", f"{requirement_id}: empty requirement statement")
        section_id = values.get("section_id", "")
        if not section_id:
            section_id = requirement_id.rsplit(".", 1)[0] if "." in requirement_id else requirement_id
            if "section_id" in self.columns.fields:
                self._issue(Severity.WARNING, number, "section_id", f"empty ID Section; read as {section_id}")
        conditional = self._conditional(number, values, requirement_id)
        if not self.scenarios[requirement_id]:
            self._issue(
                Severity.WARNING, number, "scenario_id", f"{requirement_id}: requirement without scenario"
            )
        return Requirement(
            id=requirement_id,
            section_id=section_id,
            section=values.get("section", ""),
            bloc=values.get("bloc", ""),
            fonction=values.get("fonction", ""),
            nature=self._nature(number, values, statement, requirement_id),
            statement=statement,
            profil=values.get("profil", "") or "Général",
            conditional=conditional,
            scenarios=tuple(self.scenarios[requirement_id]),
            extra=self.extras[requirement_id],
        )

    def _nature(self, number: int, values: dict[str, str], statement: str, requirement_id: str) -> Nature:
        raw = normalise_header(values.get("nature", "")).upper()
        if raw in ("EXIGENCE", "PRECONISATION"):
            return Nature(raw)
        guessed = (
            Nature.PRECONISATION
            if re.search(r"\bPEUT\b", statement) and not re.search(r"\bDOI(?:T|VENT)\b", statement)
            else Nature.EXIGENCE
        )
        what = f"unknown nature {values.get('nature')!r}" if raw else "empty nature"
        self._issue(Severity.WARNING, number, "nature", f"{requirement_id}: {what}; read as {guessed.value}")
        return guessed

    def _conditional(self, number: int, values: dict[str, str], requirement_id: str) -> bool | None:
        raw = values.get("conditionnelle", "").strip().upper()
        profil = values.get("profil", "") or "Général"
        general = normalise_header(profil) == "general"
        if raw == "OUI":
            if general:
                self._issue(
                    Severity.WARNING,
                    number,
                    "conditionnelle",
                    f"{requirement_id}: conditional but profile 'Général'",
                )
            return True
        if raw == "NON":
            if not general:
                self._issue(
                    Severity.WARNING,
                    number,
                    "conditionnelle",
                    f"{requirement_id}: not conditional but profile {profil!r}",
                )
            return False
        if raw not in ("", "---", "-"):
            self._issue(
                Severity.WARNING,
                number,
                "conditionnelle",
                f"{requirement_id}: {raw!r} is not OUI, NON or ---",
            )
        return None
