"""Frozen, typed objects for a loaded REM. Raw spreadsheet rows stop at the loader; everything after it sees these.

A REM is Requirement → Scenario → Proof, exactly as the ANS spreadsheet groups them: one row per scenario, the
requirement columns repeated on each row, proofs running horizontally (up to 10 pairs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Nature(StrEnum):
    """Nature de l'exigence: DOIT (mandatory) or PEUT (recommendation)."""

    EXIGENCE = "EXIGENCE"
    PRECONISATION = "PRECONISATION"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    """A defect found in a spreadsheet, with the place a person needs to fix it (sheet, 1-based row, column letter)."""

    severity: Severity
    sheet: str
    row: int | None
    column: str | None
    message: str

    def to_json(self) -> dict[str, object]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = self.sheet
        if self.column and self.row:
            where += f"!{self.column}{self.row}"
        elif self.row:
            where += f" row {self.row}"
        return f"{self.severity.value}: {where}: {self.message}"


@dataclass(frozen=True)
class Proof:
    """One expected proof (N° preuve / Preuve), e.g. ``INS.01.01.01``."""

    id: str
    text: str


@dataclass(frozen=True)
class Scenario:
    """One conformity scenario (N° scénario / Scénario de conformité), e.g. ``INS.01.01``, with its proofs."""

    id: str
    text: str
    proofs: tuple[Proof, ...]
    row: int | None = field(default=None, compare=False)  # spreadsheet row it came from, for messages


@dataclass(frozen=True)
class Requirement:
    """One REM requirement with its scenarios. ``statement`` is the Énoncé text as published."""

    id: str
    section_id: str
    section: str
    bloc: str
    fonction: str
    nature: Nature
    statement: str
    profil: str = "Général"
    conditional: bool | None = None  # Exigence conditionnelle OUI/NON; None for "---" or absent
    scenarios: tuple[Scenario, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()  # other columns kept verbatim (header, value), e.g. Commentaire

    @property
    def proofs(self) -> tuple[Proof, ...]:
        return tuple(p for s in self.scenarios for p in s.proofs)


@dataclass(frozen=True)
class BusinessScenario:
    """A row of the optional "Scénarios coeur de métier" tab (ids like ``SCN_DB/CO.01``)."""

    id: str
    text: str
    steps: tuple[tuple[str, str], ...] = ()  # (step id, text)
    proofs: tuple[Proof, ...] = ()


@dataclass(frozen=True)
class Referential:
    """A row of the optional "Liste Référentiels" tab."""

    name: str
    version: str = ""
    link: str = ""
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SegurDocument:
    """A row of the optional "Liste des documents Ségur" tab (document, type, interoperability level)."""

    name: str
    type_code: str = ""
    level: str = ""
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rem:
    """A whole loaded REM. ``sha256`` is the file's hash, recorded in every proof bundle made against it."""

    source: str
    sha256: str
    version: str
    requirements: tuple[Requirement, ...]
    business_scenarios: tuple[BusinessScenario, ...] = ()
    referentials: tuple[Referential, ...] = ()
    segur_documents: tuple[SegurDocument, ...] = ()
    layout: str = "published"  # "published" (A..AE) or "pre-publication" (41 columns)
    _index: dict[str, Requirement] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({r.id: r for r in self.requirements})

    def requirement(self, requirement_id: str) -> Requirement:
        return self._index[requirement_id]

    def get(self, requirement_id: str) -> Requirement | None:
        return self._index.get(requirement_id)

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return tuple(s for r in self.requirements for s in r.scenarios)

    @property
    def proofs(self) -> tuple[Proof, ...]:
        return tuple(p for r in self.requirements for p in r.proofs)
