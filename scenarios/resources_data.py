"""Inputs of the resources scenarios: Annuaire Santé extraction files and a national RCP referential."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

from harness.simulators.annuaire import data as annuaire_data
from harness.simulators.annuaire.extraction import correspondance_mss, personne_activite


def b64(content: bytes | str) -> str:
    return base64.b64encode(content.encode("utf-8") if isinstance(content, str) else content).decode("ascii")


def directory() -> annuaire_data.Directory:
    """The Annuaire simulator's own default directory, so what the DCC imports matches what its FHIR API serves."""
    return annuaire_data.load(None)


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M")


def people_file(extra_lines: tuple[str, ...] = ()) -> tuple[str, str]:
    text = personne_activite(directory()) + "".join(line + "\n" for line in extra_lines)
    return f"PS_LibreAcces_Personne_activite_{stamp()}.txt", text


def mailbox_file(changed_address: str | None = None) -> tuple[str, str]:
    """The MSSanté extraction; ``changed_address`` replaces the first practitioner's personal mailbox."""
    source = directory()
    if changed_address:
        first = sorted(source.practitioners, key=lambda p: p.rpps)[0]
        boxes = (
            tuple(dataclasses.replace(b, address=changed_address) for b in first.mailboxes[:1])
            + first.mailboxes[1:]
        )
        practitioners = tuple(
            dataclasses.replace(p, mailboxes=boxes) if p is first else p for p in source.practitioners
        )
        source = dataclasses.replace(source, practitioners=practitioners)
    return f"Extraction_Correspondance_MSSante_{stamp()}.txt", correspondance_mss(source)


RCP_REFERENTIAL = (
    "identifiant_rcp;libelle;identifiant_rrc;identifiant_gestionnaire;organisateur;finess_organisateur;"
    "centre_3c;specialite;quorum_specialites\n"
    "RCP-SEIN-01;RCP Sénologie;RRC-IDF;3C-SL;Hôpital Simulé Saint-Louis;750000001;3C Saint-Louis;senologie;"
    "3\n"
    "RCP-DIG-02;RCP Digestif;RRC-IDF;3C-SL;Hôpital Simulé Saint-Louis;750000001;3C Saint-Louis;digestif;"
    "2\n"
)
PARTICIPANTS = [
    {"id": "10000000001", "name": "Dr Claire MARTIN", "specialty": "oncologie", "role": "responsable"},
    {"id": "10000000002", "name": "Dr Jean DUPONT", "specialty": "chirurgie", "role": "suppleant"},
    {"id": "10000000003", "name": "Dr Anne LEFÈVRE", "specialty": "radiotherapie", "role": "membre"},
]
