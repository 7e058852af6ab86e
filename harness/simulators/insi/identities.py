"""The INSi simulator's test identity base: who the téléservice knows, with their INS history.

Loaded from YAML/JSON (``identities:`` list) or the built-in set; a bad entry is refused naming the entry and field.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

OID_NIR_TEST = "1.2.250.1.213.1.4.10"


class IdentityBaseError(ValueError):
    pass


def ins_key(matricule: str) -> str:
    """97 − (N mod 97), Corsica 2A → 19, 2B → 18 before the modulo (NATIONAL-SERVICES §1)."""
    department = matricule[5:7].upper()
    digits = matricule[:5] + {"2A": "19", "2B": "18"}.get(department, department) + matricule[7:]
    return f"{97 - int(digits) % 97:02d}"


@dataclass(frozen=True)
class Identity:
    matricule: str  # 13 characters
    nom_naissance: str
    prenoms: tuple[str, ...]
    sexe: str  # M / F
    date_naissance: str  # YYYY-MM-DD
    lieu_naissance: str  # COG, 5 characters
    oid: str = OID_NIR_TEST
    carte_vitale: str = ""  # the number read from the card (NIR of the card holder)
    historique: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # previous (matricule, oid)

    @property
    def cle(self) -> str:
        return ins_key(self.matricule)


DEFAULT_IDENTITIES = (
    Identity(
        "2790351215189",
        "MARTIN",
        ("Jeanne", "Marie"),
        "F",
        "1979-03-12",
        "75056",
        carte_vitale="2790351215189",
    ),
    Identity(
        "1090763220834",
        "DUPONT",
        ("Pierre",),
        "M",
        "2009-07-01",
        "63220",
        historique=(("1090763220800", OID_NIR_TEST),),
    ),
    Identity("2090763220834", "BERNARD", ("Claire",), "F", "2009-07-01", "63220"),
    Identity("1850275056123", "PETIT", ("Louis",), "M", "1985-02-10", "75056"),
    Identity(
        "1850269123456", "PETIT", ("Louis",), "M", "1985-02-10", "69123"
    ),  # homonym: search without COG → 02
)


def fold(text: str) -> str:
    """Comparison form of a trait: no accents, upper case, spaces and hyphens as one space."""
    text = unicodedata.normalize("NFKD", text or "")
    text = (
        "".join(c for c in text if not unicodedata.combining(c)).upper().replace("-", " ").replace("'", " ")
    )
    return " ".join(text.split())


def _identity(raw: Any, where: str) -> Identity:
    if not isinstance(raw, dict):
        raise IdentityBaseError(f"{where}: an identity is a mapping")
    try:
        matricule = str(raw["matricule"])
        prenoms = raw["prenoms"]
        identity = Identity(
            matricule=matricule,
            nom_naissance=str(raw["nom_naissance"]),
            prenoms=tuple(prenoms if isinstance(prenoms, list) else str(prenoms).split()),
            sexe=str(raw["sexe"]),
            date_naissance=str(raw["date_naissance"]),
            lieu_naissance=str(raw.get("lieu_naissance", "")),
            oid=str(raw.get("oid", OID_NIR_TEST)),
            carte_vitale=str(raw.get("carte_vitale", "")),
            historique=tuple(
                (str(h["matricule"]), str(h.get("oid", OID_NIR_TEST))) for h in raw.get("historique", [])
            ),
        )
    except KeyError as missing:
        raise IdentityBaseError(f"{where}: missing field {missing.args[0]}") from None
    if len(identity.matricule) != 13 or identity.sexe not in ("M", "F"):
        raise IdentityBaseError(f"{where}: matricule must have 13 characters and sexe be M or F")
    if "cle" in raw and str(raw["cle"]).zfill(2) != identity.cle:
        raise IdentityBaseError(
            f"{where}: cle {raw['cle']} does not match the matricule (expected {identity.cle})"
        )
    return identity


def load_identities(source: str | Path | list | None) -> tuple[Identity, ...]:
    if source is None:
        return DEFAULT_IDENTITIES
    if isinstance(source, list):
        return tuple(_identity(r, f"identities[{i}]") for i, r in enumerate(source))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise IdentityBaseError(f"{path}: cannot read the identity base ({error})") from None
    items = data.get("identities") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise IdentityBaseError(f"{path}: expected a top-level 'identities:' list")
    return tuple(_identity(r, f"{path}: identities[{i}]") for i, r in enumerate(items))


def by_traits(
    base: tuple[Identity, ...], nom: str, prenom: str, sexe: str, date: str, lieu: str = ""
) -> list[Identity]:
    """The identities matching the traits (first name: any of the birth first names; COG only when given)."""
    return [
        i
        for i in base
        if fold(i.nom_naissance) == fold(nom)
        and fold(prenom) in {fold(p) for p in i.prenoms}
        and i.sexe == sexe
        and i.date_naissance == date
        and (not lieu or i.lieu_naissance == lieu)
    ]


def by_carte_vitale(base: tuple[Identity, ...], numero: str, date: str) -> list[Identity]:
    return [
        i
        for i in base
        if i.carte_vitale and i.carte_vitale == numero and (not date or i.date_naissance == date)
    ]
