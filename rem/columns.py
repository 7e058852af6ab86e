"""Finding the REM's columns from its header row, whatever their order, accents, line breaks or stray spaces.

The ANS exports are produced by tooling whose column order has changed between versions (the 41-column
pre-publication layout, the A..AE published layout), and hand-edited copies add columns or retype headers with
different accents. Matching normalised header text, not positions, is what lets the same loader read them all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

MAX_PROOFS = 10

# The published layout, columns A..AE, exactly as the ANS template spells them (written back by rem.writer).
PUBLISHED_HEADERS: tuple[str, ...] = (
    "Exigence conditionnelle OUI/NON",
    "Profil",
    "ID Section",
    "Section",
    "Bloc",
    "Fonction",
    "Nature de l'exigence",
    "N° exigence",
    "Énoncé de l'exigence (DOIT) ou de la préconisation (PEUT)",
    "N° scénario",
    "Scénario de conformité",
    *(h for k in range(1, MAX_PROOFS + 1) for h in (f"N° preuve {k}", f"Preuve {k}")),
)

# The 41-column pre-publication layout (REM-FORMAT.md), first columns; the rest are kept as extra columns.
PRE_PUBLICATION_HEADERS: tuple[str, ...] = (
    "Périmètre",
    "ID",
    "Chapitre",
    "Fonction",
    "Exigence",
    "Commentaire",
    "Nature de l'exigence",
    "Profil",
    "N° scénario",
    "Scénario de conformité",
    *(h for k in range(1, MAX_PROOFS + 1) for h in (f"N° preuve {k}", f"Preuve {k}")),
    "Statut publication",
    "VA N-1",
    "Criticité",
    "Ordre",
    "Exigence conditionnelle OUI/NON",
)

REQUIRED_FIELDS = ("requirement_id", "statement", "scenario_id")

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9/ ]+")


def normalise_header(value: object) -> str:
    """Header text folded for matching: no accents, lower case, punctuation as spaces, one space between words."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("°", " ").replace("º", " ")
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


_PROOF_ID = re.compile(r"^n (?:de )?preuve (\d+)$")
_PROOF_TEXT = re.compile(r"^preuve (\d+)$")

# normalised header (exact) -> field; checked before the prefix table
_EXACT: dict[str, str] = {
    "profil": "profil",
    "id section": "section_id",
    "section": "section",
    "bloc": "bloc",
    "fonction": "fonction",
    "nature de l exigence": "nature",
    "nature": "nature",
    "n exigence": "requirement_id",
    "n scenario": "scenario_id",
    "scenario de conformite": "scenario",
    # pre-publication layout
    "id": "requirement_id",
    "chapitre": "section",
    "exigence": "statement",
}

# normalised header prefix -> field, for headers that carry explanations ("Énoncé de l'exigence (DOIT) ou …")
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("exigence conditionnelle", "conditionnelle"),
    ("enonce", "statement"),
    ("scenario de conformite", "scenario"),
    ("nature de l exigence", "nature"),
    ("n exigence", "requirement_id"),
    ("n scenario", "scenario_id"),
)


def field_for_header(value: object) -> str | None:
    """The REM field a header names (``proof_id_3``, ``statement``…), or None for an extra column."""
    key = normalise_header(value)
    if not key:
        return None
    if match := _PROOF_ID.match(key):
        return f"proof_id_{int(match.group(1))}"
    if match := _PROOF_TEXT.match(key):
        return f"proof_{int(match.group(1))}"
    if key in _EXACT:
        return _EXACT[key]
    for prefix, name in _PREFIXES:
        if key.startswith(prefix):
            return name
    return None


@dataclass(frozen=True)
class ColumnMap:
    """Where each field sits in a sheet (0-based indexes), found from one header row."""

    header_row: int  # 1-based
    fields: dict[str, int]
    extras: dict[int, str]  # index -> header text, for columns that are not REM fields
    duplicates: tuple[tuple[str, int, int], ...] = ()  # (field, kept index, ignored index)

    @property
    def layout(self) -> str:
        return "published" if "section_id" in self.fields or "bloc" in self.fields else "pre-publication"

    def letter(self, name: str) -> str | None:
        index = self.fields.get(name)
        return None if index is None else get_column_letter(index + 1)

    @property
    def proof_slots(self) -> list[int]:
        slots = {
            int(name.rsplit("_", 1)[1])
            for name in self.fields
            if name.startswith("proof_id_") or (name.startswith("proof_") and name[6:].isdigit())
        }
        return sorted(slots)

    def missing(self) -> list[str]:
        return [name for name in REQUIRED_FIELDS if name not in self.fields]


def map_columns(row: tuple[object, ...], header_row: int) -> ColumnMap:
    fields: dict[str, int] = {}
    extras: dict[int, str] = {}
    duplicates: list[tuple[str, int, int]] = []
    for index, value in enumerate(row):
        name = field_for_header(value)
        if name is None:
            if value is not None and str(value).strip():
                extras[index] = _SPACES.sub(" ", str(value)).strip()
            continue
        if name in fields:
            duplicates.append((name, fields[name], index))
            continue
        fields[name] = index
    return ColumnMap(header_row, fields, extras, tuple(duplicates))


def score(row: tuple[object, ...]) -> int:
    """How many distinct REM fields a row names: the header row is the one that names most."""
    return len({name for name in map(field_for_header, row) if name is not None})
