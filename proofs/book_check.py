"""Reads the recette book back (``recette-book.xlsx``, sheet « Recette ») and compares each row's verdict and proof
files with the replayed verdicts: the book is what a reviewer reads, so a verdict edited by hand in it is a
finding even when the manifest is intact."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from proofs.book import COLUMNS, SHEET, VERDICT_COLUMN
from proofs.findings import Check, Status, Verification

BOOK = "recette-book.xlsx"
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
_HEADERS = [name for name, _ in COLUMNS]


@dataclass(frozen=True)
class BookRow:
    row: int
    requirement: str
    scenario: str
    proof: str
    verdict: str
    files: tuple[str, ...]


def read_book(path: Path) -> list[BookRow]:
    """The rows of the « Recette » sheet; ValueError names what is wrong with the workbook."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ValueError(f"not a readable .xlsx workbook ({type(error).__name__}: {error})") from None
    try:
        if SHEET not in workbook.sheetnames:
            raise ValueError(f"no sheet {SHEET!r}")
        sheet = workbook[SHEET]
        rows = sheet.iter_rows(values_only=True)
        header = [str(v or "").strip() for v in next(rows, ())]
        if header[: len(_HEADERS)] != _HEADERS:
            raise ValueError(f"sheet {SHEET!r}: header is not {', '.join(_HEADERS)}")
        column = {name: index for index, name in enumerate(_HEADERS)}
        out = []
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS:
                raise ValueError(f"sheet {SHEET!r}: more than {MAX_ROWS} rows")
            cells = [("" if v is None else str(v)) for v in (*values, *([None] * len(_HEADERS)))]
            if not any(cells[: len(_HEADERS)]):
                continue
            out.append(
                BookRow(
                    number,
                    cells[column["N° exigence"]].strip(),
                    cells[column["N° scénario"]].strip(),
                    cells[column["N° preuve"]].strip(),
                    cells[VERDICT_COLUMN - 1].strip(),
                    tuple(f for f in cells[column["Fichiers de preuve"]].splitlines() if f.strip()),
                )
            )
        return out
    finally:
        workbook.close()


def compare_book(
    bundle: Path,
    results: list[dict[str, Any]],
    replayed: dict[tuple[str, str], Any] | None,
    out: Verification,
) -> None:
    path = bundle / BOOK
    if not path.is_file() or path.is_symlink():
        out.add(Check.BOOK, Status.A_CORRIGER, "no recette book in the bundle", file=BOOK)
        return
    if path.stat().st_size > MAX_BYTES:
        out.add(Check.BOOK, Status.A_CORRIGER, f"larger than {MAX_BYTES} bytes: not read", file=BOOK)
        return
    try:
        rows = read_book(path)
    except Exception as error:  # an editor's workbook: openpyxl and lxml raise many types on a damaged one
        out.add(Check.BOOK, Status.A_CORRIGER, f"unreadable: {error}", file=BOOK)
        return
    by_pair: dict[tuple[str, str], list[BookRow]] = {}
    for row in rows:
        by_pair.setdefault((row.requirement, row.scenario), []).append(row)
    known = {(r["requirement"], r["scenario"]): r for r in results}
    for pair, result in known.items():
        rid, sid = pair
        again = replayed.get(pair) if replayed is not None else None
        expected = again.verdict if again is not None else result["verdict"]
        book_rows = by_pair.get(pair, [])
        if not book_rows:
            out.add(
                Check.BOOK,
                Status.A_CORRIGER,
                f"{sid}: no row in the recette book",
                requirement=rid,
                file=BOOK,
            )
            continue
        delivered = {
            p.get("id"): tuple(p.get("delivered") or ())
            for p in result.get("expected_proofs") or []
            if isinstance(p, dict)
        }
        for row in book_rows:
            if row.verdict != expected:
                out.add(
                    Check.BOOK,
                    Status.A_CORRIGER,
                    f"row {row.row} ({row.proof or sid}): the book says « {row.verdict} », "
                    f"the {'replay' if again is not None else 'manifest'} gives « {expected} »",
                    requirement=rid,
                    file=BOOK,
                )
            if row.proof and row.files != delivered.get(row.proof, ()):
                out.add(
                    Check.BOOK,
                    Status.A_CORRIGER,
                    f"row {row.row} ({row.proof}): proof files {list(row.files)} differ from the manifest's "
                    f"{list(delivered.get(row.proof, ()))}",
                    requirement=rid,
                    file=BOOK,
                )
    for (rid, sid), book_rows in by_pair.items():
        if (rid, sid) not in known:
            out.add(
                Check.BOOK,
                Status.A_CORRIGER,
                f"row {book_rows[0].row}: {sid} has no result in the manifest",
                requirement=rid or None,
                file=BOOK,
            )
