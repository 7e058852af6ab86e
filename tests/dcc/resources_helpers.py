"""Builders of Annuaire Santé extraction lines for the resources tests (the layout of the simulator's files)."""

from __future__ import annotations

from harness.simulators.annuaire.extraction import CORRESPONDANCE_MSS, PERSONNE_ACTIVITE


def line(values: list[str]) -> bytes:
    return ("|".join(values) + "|\n").encode("utf-8")


def person_row(rpps: str, family: str, given: str = "Anne", finess: str = "750000001", **extra: str) -> bytes:
    row = dict.fromkeys(PERSONNE_ACTIVITE, "")
    row.update(
        {
            "Type d'identifiant PP": "8",
            "Identifiant PP": rpps,
            "Identification nationale PP": "8" + rpps,
            "Code civilité d'exercice": "DR",
            "Nom d'exercice": family,
            "Prénom d'exercice": given,
            "Code profession": "10",
            "Libellé profession": "Médecin",
            "Numéro FINESS site": finess,
        }
    )
    row.update(extra)
    return line([row[c] for c in PERSONNE_ACTIVITE])


def person_file(*rows: bytes) -> list[bytes]:
    return [line(PERSONNE_ACTIVITE), *rows]


def mailbox_row(rpps: str | None, address: str, kind: str = "PER", structure: str = "") -> bytes:
    row = dict.fromkeys(CORRESPONDANCE_MSS, "")
    row.update({"type_bal": kind, "adresse_bal": address, "identification_structure": structure})
    if rpps:
        row.update(
            {
                "type_identifiant_pp": "8",
                "identifiant_pp": rpps,
                "identification_nationale_pp": "8" + rpps,
                "nom_exercice": "NOM",
                "prenom_exercice": "Prénom",
            }
        )
    return line([row[c] for c in CORRESPONDANCE_MSS])


def mailbox_file(*rows: bytes) -> list[bytes]:
    return [line(CORRESPONDANCE_MSS), *rows]


def rpps(n: int) -> str:
    return f"{10_100_000_000 + n:011d}"
