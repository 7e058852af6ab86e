"""Test patients and helpers shared by the scenarios. Identities are fictitious; the matricules come from the INS
test set of the national services documentation (and the INSi simulator's identities)."""

from __future__ import annotations

import html
import itertools
import json
from typing import Any

_counter = itertools.count(1)


def traits(
    nom: str = "RECETTE",
    prenoms: tuple[str, ...] = ("PIERRE", "ALAIN"),
    sexe: str = "M",
    date_naissance: str = "1962-03-15",
    lieu_naissance: str | None = "75056",
) -> dict[str, Any]:
    """Traits of a fresh test patient; the birth name is made unique per call so scenarios never share one."""
    return {
        "nom_naissance": f"{nom}{next(_counter):04d}" if nom == "RECETTE" else nom,
        "prenoms": list(prenoms),
        "sexe": sexe,
        "date_naissance": date_naissance,
        "lieu_naissance": lieu_naissance,
    }


AUTHOR = {
    "nom": "MARTIN",
    "prenom": "Claire",
    "rpps": "10000000001",
    "mssante": "claire.martin@hopital-simule.mssante.fr",
}
RCP = {"rrc_id": "RRC-IDF", "gestionnaire_id": "3C-SL", "rcp_id": "RCP-SEIN-01", "nom": "RCP Sénologie"}
FRCP_CONTENT = {
    "auteur": AUTHOR,
    "rcp": RCP,
    "motif": "Présentation initiale en RCP",
    "localisation": "Sein gauche",
    "histologie": "Carcinome canalaire infiltrant",
    "proposition": "Chirurgie conservatrice puis radiothérapie",
}
PPS_CONTENT = {
    "auteur": AUTHOR,
    "traitements": "Chirurgie le 2026-12-10; radiothérapie 25 séances",
    "soins_support": "Consultation diététique",
    "contacts": "Infirmière de coordination 01 23 45 67 89",
}


def journal(events: list[dict[str, Any]]) -> str:
    """The DCC's event journal as a proof file (JSON lines, as exported by the test-driver API)."""
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events)


def snapshot(title: str, rows: list[tuple[str, Any]]) -> str:
    """A screenshot-like HTML rendering of what the DCC showed at a step (the REM asks for « copies d'écran »)."""
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)}</td></tr>"
        for k, v in rows
    )
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}th{text-align:left;padding-right:1em}</style>"
        f"<h1>{html.escape(title)}</h1><table>{body}</table>"
    )
