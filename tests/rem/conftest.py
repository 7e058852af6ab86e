"""Builders of small REMs for the loader tests: written with openpyxl directly, so the tests do not trust the
writer they also test."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from rem.columns import PUBLISHED_HEADERS


def row(rid: str, sid: str, statement: str = "Le système DOIT faire X.", proofs=(), **over) -> list[object]:
    values = {
        "conditionnelle": "NON",
        "profil": "Général",
        "section_id": rid.rsplit(".", 1)[0],
        "section": "Section",
        "bloc": "2.1.1 Bloc",
        "fonction": "Fonction",
        "nature": "EXIGENCE",
    } | over
    cells: list[object] = [
        values["conditionnelle"],
        values["profil"],
        values["section_id"],
        values["section"],
        values["bloc"],
        values["fonction"],
        values["nature"],
        rid,
        statement,
        sid,
        values.get("scenario", f"L'éditeur DOIT exécuter le scénario {sid}."),
    ]
    for pid, text in proofs:
        cells += [pid, text]
    return cells + [None] * (len(PUBLISHED_HEADERS) - len(cells))


def write_sheet(path: Path, rows: list[list[object]], headers=PUBLISHED_HEADERS, title="Exigences") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(headers))
    for r in rows:
        sheet.append(r)
    workbook.save(path)
    return path


@pytest.fixture
def sheet(tmp_path):
    def make(rows, headers=PUBLISHED_HEADERS, title="Exigences", name="rem.xlsx"):
        return write_sheet(tmp_path / name, rows, headers, title)

    return make
