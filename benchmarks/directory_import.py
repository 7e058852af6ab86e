"""Import throughput of the PS contact directory (issue 4 point 5): a generated PS_LibreAcces_Personne_activite
extraction of 100,000 lines (about 80,000 professionals, some with two activities, 0.1 % malformed lines) integrated
into an empty SQLite database, then re-imported with 1 % of the names changed (the update path). Lines per second
is what a region waits for when the national extraction is integrated.

``DCC_DATABASE_URL`` pointing at PostgreSQL measures there instead (a throwaway database is created and dropped).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks.databases import throwaway
from benchmarks.report import timed, write_section
from dcc.db import make_engine, make_session_factory, migrate
from dcc.services import directory
from harness.simulators.annuaire.extraction import PERSONNE_ACTIVITE

LINES = 100_000
BAD_EVERY = 1_000
FIRST_RPPS = 10_200_000_000


def generated(path: Path, lines: int = LINES, renamed_every: int = 0) -> int:
    """Writes the extraction; returns how many malformed lines it holds."""
    bad = 0
    with path.open("wb") as out:
        out.write(("|".join(PERSONNE_ACTIVITE) + "|\n").encode())
        for n in range(1, lines + 1):
            if n % BAD_EVERY == 0:
                out.write(b"8|1234|81234|DR|line with too few fields|\n")
                bad += 1
                continue
            person = n - n // 5  # every fifth line is a second activity of the previous professional
            rpps = f"{FIRST_RPPS + person:011d}"
            family = f"NOM{person}" + ("-BIS" if renamed_every and person % renamed_every == 0 else "")
            row = dict.fromkeys(PERSONNE_ACTIVITE, "")
            row.update(
                {
                    "Type d'identifiant PP": "8",
                    "Identifiant PP": rpps,
                    "Identification nationale PP": "8" + rpps,
                    "Code civilité d'exercice": "DR",
                    "Nom d'exercice": family,
                    "Prénom d'exercice": "Prénom",
                    "Code profession": "10",
                    "Libellé profession": "Médecin",
                    "Code savoir-faire": "SM54",
                    "Numéro FINESS site": f"{750_000_000 + n % 997:09d}",
                    "Raison sociale site": f"Site {n % 997}",
                }
            )
            out.write(("|".join(row[c] for c in PERSONNE_ACTIVITE) + "|\n").encode())
    return bad


def _database(tmp: Path) -> Iterator[str]:
    """SQLite beside the extraction files, or a throwaway PostgreSQL database on DCC_DATABASE_URL's server."""
    url = os.environ.get("DCC_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    with throwaway("postgresql", "dcc_bench", server=url) as scratch:
        yield scratch


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        first, second = (
            tmp / "PS_LibreAcces_Personne_activite_1.txt",
            tmp / "PS_LibreAcces_Personne_activite_2.txt",
        )
        bad = generated(first)
        generated(second, renamed_every=100)
        size = first.stat().st_size
        for url in _database(tmp):
            migrate(url)
            engine = make_engine(url)
            factory = make_session_factory(engine)
            with first.open("rb") as stream:
                times, report = timed(
                    lambda s=stream, f=factory: directory.run_import(f, s, first.name, "bench", bad), 1
                )
            assert report.rejected == bad and report.status == "finished", report.as_dict()
            with second.open("rb") as stream:
                again_times, again = timed(
                    lambda s=stream, f=factory: directory.run_import(f, s, second.name, "bench"), 1
                )
            assert again.duplicates == 0 and again.created == 0
            dialect = engine.dialect.name
            engine.dispose()
    body = f"""
A generated `PS_LibreAcces_Personne_activite` extraction of {LINES:,} lines ({size / 1024**2:.1f} MiB, the public
layout of 25 columns), {report.created:,} professionals (every fifth line a second activity), {bad} malformed lines;
`dcc.services.directory.run_import` in batches of {directory.BATCH_SIZE:,} lines (one transaction each), on
{dialect}, one process.

| measure | value |
|---|---|
| first import (empty directory): lines per second | {LINES / times[0]:,.0f} ({times[0]:.1f} s) |
| lines imported / rejected with their number | {report.imported:,} / {report.rejected} |
| re-import, 1 % of the names changed: lines per second | {LINES / again_times[0]:,.0f} ({again_times[0]:.1f} s) |
| contacts updated (`directory.contact_updated`) / created / doubles | {again.updated:,} / {again.created} / {again.duplicates} |
"""
    write_section("directory_import", body)


if __name__ == "__main__":
    main()
