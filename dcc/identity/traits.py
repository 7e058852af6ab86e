"""Strict identity traits and how two sets of them compare (NATIONAL-SERVICES §1: nom de naissance, liste des
prénoms de naissance, sexe, date de naissance, lieu de naissance as a COG code).

Why a folded comparison: the same person is spelt « Hélène-Marie » in one system and « HELENE MARIE » in another;
the RNIV compares traits without accents, case or punctuation, never by sound or by prefix.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol


class HasTraits(Protocol):
    nom_naissance: str
    sexe: str
    date_naissance: str

    @property
    def prenoms(self) -> tuple[str, ...] | str: ...

    @property
    def lieu_naissance(self) -> str | None: ...


def fold(text: str | None) -> str:
    """Comparison form of a trait: no accents, upper case, hyphens and apostrophes as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    for sign in "-'’":
        text = text.replace(sign, " ")
    return " ".join(text.split())


def prenoms_of(traits: HasTraits) -> tuple[str, ...]:
    """The birth first names as folded words, whether stored as a tuple or as one space-separated string (the
    patient table keeps them space-separated, so « Jeanne-Marie » and « Jeanne Marie » compare equal)."""
    value = traits.prenoms
    return tuple(fold(value if isinstance(value, str) else " ".join(value)).split())


def differences(local: HasTraits, other: HasTraits) -> list[str]:
    """The strict traits that differ (empty when identical). The birthplace counts only when both sides know it:
    a flow or an INSi search without COG says nothing about it."""
    found = []
    if fold(local.nom_naissance) != fold(other.nom_naissance):
        found.append("nom_naissance")
    if prenoms_of(local) != prenoms_of(other):
        found.append("prenoms")
    if local.sexe != other.sexe:
        found.append("sexe")
    if local.date_naissance != other.date_naissance:
        found.append("date_naissance")
    if local.lieu_naissance and other.lieu_naissance and local.lieu_naissance != other.lieu_naissance:
        found.append("lieu_naissance")
    return found


def insi_mismatches(local: HasTraits, returned: HasTraits) -> list[str]:
    """The traits of a local identity that an INSi answer contradicts. INSi is searched with one first name, so the
    local first names must all be among the returned ones in order (the DCC then takes the full INSi list)."""
    found = [d for d in differences(local, returned) if d != "prenoms"]
    local_first, returned_first = prenoms_of(local), prenoms_of(returned)
    if not local_first or returned_first[: len(local_first)] != local_first:
        found.append("prenoms")
    return found


def similar(local: HasTraits, other: HasTraits) -> bool:
    """Close enough to be proposed for a rapprochement (2.3.2.1 « identité reçue incohérente »): at least three of
    nom de naissance, first prénom, sexe and date de naissance equal. A human decides; nothing is merged on this."""
    first_local, first_other = prenoms_of(local)[:1], prenoms_of(other)[:1]
    same = [
        fold(local.nom_naissance) == fold(other.nom_naissance),
        first_local == first_other,
        local.sexe == other.sexe,
        local.date_naissance == other.date_naissance,
    ]
    return sum(same) >= 3
