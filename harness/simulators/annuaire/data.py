"""The Annuaire Santé simulator's directory: professionals, their activities and MSSanté mailboxes, organisations.

Loaded from a YAML/JSON file (``annuaire_data`` option) or the embedded default below; identifiers follow
NATIONAL-SERVICES §5: RPPS (11 digits) → IdNat PS ``"8" + RPPS``; FINESS (9) → IdNat structure ``"1" + FINESS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class DirectoryError(ValueError):
    """A directory data file that cannot be loaded; the message names the file and entry."""


@dataclass(frozen=True)
class Mailbox:
    address: str
    type: str = "PER"  # PER, ORG, APP, CAB


@dataclass(frozen=True)
class Organization:
    finess: str
    name: str
    mailboxes: tuple[Mailbox, ...] = ()

    @property
    def idnat(self) -> str:
        return "1" + self.finess


@dataclass(frozen=True)
class Practitioner:
    rpps: str
    family: str
    given: str
    profession_code: str = "10"  # TRE_G15: 10 médecin
    savoir_faire: str | None = None  # e.g. SM54 oncologie médicale
    civilite: str = "DR"
    finess_site: str | None = None
    mailboxes: tuple[Mailbox, ...] = ()

    @property
    def idnat(self) -> str:
        return "8" + self.rpps


@dataclass(frozen=True)
class Directory:
    practitioners: tuple[Practitioner, ...] = ()
    organizations: tuple[Organization, ...] = field(default_factory=tuple)


DEFAULT: dict[str, Any] = {
    "organizations": [
        {
            "finess": "750000001",
            "name": "Hôpital Simulé Saint-Louis",
            "mailboxes": [{"address": "dpi@hopital-simule.mssante.fr", "type": "APP"}],
        },
        {
            "finess": "690000002",
            "name": "Centre Simulé Léon Bérard",
            "mailboxes": [{"address": "rcp@dcc-pair.mssante.fr", "type": "APP"}],
        },
    ],
    "practitioners": [
        {
            "rpps": "10000000001",
            "family": "MARTIN",
            "given": "Claire",
            "savoir_faire": "SM54",
            "finess_site": "750000001",
            "mailboxes": [{"address": "claire.martin@hopital-simule.mssante.fr", "type": "PER"}],
        },
        {
            "rpps": "10000000002",
            "family": "DUPONT",
            "given": "Jean",
            "savoir_faire": "SM53",
            "finess_site": "750000001",
            "mailboxes": [{"address": "jean.dupont@medecin.mssante.fr", "type": "PER"}],
        },
        {
            "rpps": "10000000003",
            "family": "LEFÈVRE",
            "given": "Anne",
            "savoir_faire": "SM54",
            "finess_site": "690000002",
            "mailboxes": [{"address": "anne.lefevre@dcc-pair.mssante.fr", "type": "PER"}],
        },
        {
            "rpps": "10000000004",
            "family": "BERNARD",
            "given": "Luc",
            "profession_code": "10",
            "mailboxes": [{"address": "cabinet.bernard@medecin.mssante.fr", "type": "CAB"}],
        },
    ],
}


def _mailboxes(items: Any, where: str) -> tuple[Mailbox, ...]:
    out = []
    for n, item in enumerate(items or []):
        if not isinstance(item, dict) or "address" not in item:
            raise DirectoryError(f"{where}.mailboxes[{n}]: needs an 'address'")
        kind = str(item.get("type", "PER"))
        if kind not in {"PER", "ORG", "APP", "CAB"}:
            raise DirectoryError(f"{where}.mailboxes[{n}].type: {kind!r} is not one of PER, ORG, APP, CAB")
        out.append(Mailbox(str(item["address"]).lower(), kind))
    return tuple(out)


def from_mapping(data: dict[str, Any], name: str = "<annuaire>") -> Directory:
    practitioners = []
    for n, item in enumerate(data.get("practitioners") or []):
        where = f"{name}: practitioners[{n}]"
        rpps = str(item.get("rpps", ""))
        if not (rpps.isdigit() and len(rpps) == 11):
            raise DirectoryError(f"{where}.rpps: {rpps!r} is not 11 digits")
        for key in ("family", "given"):
            if not item.get(key):
                raise DirectoryError(f"{where}.{key}: missing")
        practitioners.append(
            Practitioner(
                rpps=rpps,
                family=str(item["family"]),
                given=str(item["given"]),
                profession_code=str(item.get("profession_code", "10")),
                savoir_faire=item.get("savoir_faire"),
                civilite=str(item.get("civilite", "DR")),
                finess_site=item.get("finess_site"),
                mailboxes=_mailboxes(item.get("mailboxes"), where),
            )
        )
    organizations = []
    for n, item in enumerate(data.get("organizations") or []):
        where = f"{name}: organizations[{n}]"
        finess = str(item.get("finess", ""))
        if not (finess.isalnum() and len(finess) == 9):
            raise DirectoryError(f"{where}.finess: {finess!r} is not 9 characters")
        organizations.append(
            Organization(finess, str(item.get("name", "")), _mailboxes(item.get("mailboxes"), where))
        )
    return Directory(tuple(practitioners), tuple(organizations))


def load(path: str | Path | None) -> Directory:
    if path is None:
        return from_mapping(DEFAULT, "<default>")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise DirectoryError(f"{path}: cannot read ({error})") from None
    if not isinstance(data, dict):
        raise DirectoryError(f"{path}: expected a mapping with practitioners and organizations")
    return from_mapping(data, str(path))
