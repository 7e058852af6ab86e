"""Every dashboard indicator over 10 million transmission attempts (issue 10; target: under 30 s on 2 cores).

The activity is two years, 10 FINESS, 20 RPPS each, generated once by ``dcc.tbb.generate`` into a SQLite file under
the user's cache directory (reused while the generator's parameters are the same; generation time is reported when
it runs). Each measure runs in a fresh process, so its peak resident memory is its own: the database ``GROUP BY``
into monthly cubes (``dcc.tbb.extract.load_cubes``), then every indicator and window in pandas
(``dcc.tbb.indicators.compute``) for a quarter. PostgreSQL is measured on a smaller volume when reachable
(``TBB_BENCH_PG_URL``, default the test server), scaled figures are not extrapolated.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from datetime import date
from pathlib import Path

from platformdirs import user_cache_dir

from benchmarks.report import write_section

TARGET_ATTEMPTS = 10_000_000
DOCUMENTS_PER_MONTH = 6_200  # new FRCP per FINESS and month: ~6.7 attempts each gives ~10 M attempts
FINESS = tuple(
    f"{d:02d}0000{i:03d}" for d, i in zip((75, 69, 13, 33, 59, 67, 31, 44, 34, 35), range(1, 11), strict=True)
)
TODAY = date(2026, 12, 15)
PERIOD = "2026-Q4"
PG_URL = os.environ.get("TBB_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
PG_DOCUMENTS_PER_MONTH = 620  # ~1 M attempts


def spec(documents_per_month: int = DOCUMENTS_PER_MONTH):
    from dcc.tbb.generate import default_spec

    return default_spec(TODAY, finess=FINESS, rpps_per_finess=20, documents_per_month=documents_per_month)


def cached_database() -> tuple[str, float | None]:
    """The SQLite URL of the 10 M-attempt activity, generating it when missing (and the seconds that took)."""
    directory = Path(user_cache_dir("dcc-recette")) / "benchmarks"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"tbb_{DOCUMENTS_PER_MONTH}x{len(FINESS)}_{TODAY:%Y%m}_v2.sqlite3"
    url = f"sqlite:///{path}"
    if path.exists():
        return url, None
    from sqlalchemy import create_engine, event

    from dcc.db import migrate
    from dcc.tbb.generate import generate

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    partial_url = f"sqlite:///{partial}"
    migrate(partial_url)
    # Not the DCC's engine: a throw-away file written in one transaction needs no journal, no fsync and no
    # foreign-key lookups (the generator builds the ids), and a large page cache keeps the indexes' current month
    # in memory. The file is renamed only once complete; WAL is set back for the readers.
    engine = create_engine(partial_url)

    @event.listens_for(engine, "connect")
    def _bulk(connection, _record) -> None:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "cache_size=-1000000",
            "temp_store=MEMORY",
        ):
            connection.execute(f"PRAGMA {pragma}")

    start = time.perf_counter()
    with engine.begin() as connection:
        generate(connection, spec())
    elapsed = time.perf_counter() - start
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()
    partial.rename(path)
    return url, elapsed


def _measure(url: str, parallel: bool, queue) -> None:
    """In a fresh process: cubes from the database, then every indicator; times, CPU and peak resident memory."""
    from dcc.db import make_engine
    from dcc.tbb import inca
    from dcc.tbb.extract import load_cubes
    from dcc.tbb.indicators import compute, loaded_span
    from dcc.tbb.periods import Period

    period = Period.parse(PERIOD)
    extra = inca.windows(inca.quarter_of(period, TODAY))
    engine = make_engine(url)
    with engine.connect() as connection:
        count = int(connection.exec_driver_sql("SELECT count(*) FROM transmission_attempt").scalar())
    load = os.getloadavg()[0]
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    span = loaded_span(period, TODAY, extra)
    if parallel:
        cubes = load_cubes(engine, span)
    else:
        with engine.connect() as connection:
            cubes = load_cubes(connection, span)
    loaded = time.perf_counter()
    dashboard = compute(cubes, period, TODAY, extra_windows=extra)
    done = time.perf_counter()
    used = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "parallel": parallel,
            "attempts_in_database": count,
            "attempts_counted": int(dashboard.total("attempts", "span")),
            "cube_rows": {name: len(frame) for name, frame in cubes.frames.items()},
            "values": len(dashboard.values) + len(dashboard.monthly),
            "extract_s": loaded - start,
            "compute_s": done - loaded,
            "cpu_s": used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime,
            "load": load,
            "peak_mib": used.ru_maxrss / 1024,
        }
    )


def measure(url: str, parallel: bool = True) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(url, parallel, queue))
    process.start()
    result = queue.get()
    process.join()
    print({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}, flush=True)
    return result


def postgres_database() -> tuple[str, float] | None:
    """A fresh PostgreSQL database with ~1 M attempts (COPY), or None when the server is not reachable."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from dcc.db import make_engine, migrate
    from dcc.tbb.generate import generate

    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"tbb_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no server: the SQLite figures stand alone
        return None
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    engine = make_engine(url)
    start = time.perf_counter()
    with engine.begin() as connection:
        generate(connection, spec(PG_DOCUMENTS_PER_MONTH))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return url, elapsed


def drop_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def _row(label: str, r: dict) -> str:
    return (
        f"| {label} | {r['attempts_in_database']:,} | {r['extract_s']:.1f} s | {r['compute_s']:.2f} s | "
        f"{r['extract_s'] + r['compute_s']:.1f} s | {r['cpu_s']:.1f} s | {r['peak_mib']:,.0f} MiB | {r['load']:.1f} |"
    )


def main() -> None:
    url, generated = cached_database()
    runs = [measure(url, parallel) for parallel in (True, False, True)]
    best = min(runs, key=lambda r: r["extract_s"] + r["compute_s"])
    assert best["attempts_counted"] == best["attempts_in_database"], (
        "the span must cover every generated attempt"
    )
    rows = "\n".join(_row(f"SQLite, {'2 connections' if r['parallel'] else '1 connection'}", r) for r in runs)
    pg = postgres_database()
    if pg is not None:
        pg_url, pg_generated = pg
        try:
            pg_runs = [measure(pg_url, True), measure(pg_url, False)]
        finally:
            drop_postgres(pg_url)
        for r in pg_runs:
            rows += "\n" + _row(
                f"PostgreSQL (COPY-generated in {pg_generated:.0f} s), {'2 connections' if r['parallel'] else '1 connection'}",
                r,
            )
    sqlite_best = min(r["extract_s"] + r["compute_s"] for r in runs)
    cpu = max(r["cpu_s"] for r in runs)
    verdict = (
        f"Met: {sqlite_best:.1f} s."
        if sqlite_best < 30
        else f"Not met in these runs ({sqlite_best:.1f} s at best): the machine was shared (load "
        f"{min(r['load'] for r in runs):.1f}–{max(r['load'] for r in runs):.1f} on 2 cores), the work itself is "
        f"{cpu:.0f} s of CPU, which two connections can split over two free cores (about {cpu / 2:.0f} s plus the "
        f"compute on an idle machine, an estimate, not a measure). Almost all of it is SQLite joining each attempt "
        f"to its transmission and document and sorting the rows into groups (about 2 µs an attempt); the pandas part "
        f"is a few seconds. A further gain would need the closed months' cubes kept between dashboards."
    )
    body = f"""
Two years of activity (`dcc.tbb.generate`, {len(FINESS)} FINESS × 20 RPPS, FRCP/PPS with new versions,
5 channels, retries after failures), dashboard of {PERIOD} produced on {TODAY}: every indicator of
`dcc.tbb.indicators.INDICATORS` for the period, current month, current year, previous year, their span and the
INCa quarter's months, with all their breakdowns, and the monthly series ({best["values"]:,} values; cubes of
{best["cube_rows"]["attempts"]:,} attempt rows). Each run in a fresh process; CPU = the process's user + system time
(on PostgreSQL the work is in the server, not counted there); peak = its maximum resident memory; load = the
machine's 1-minute load average when the run started (other jobs share the 2 cores).
{f"Generating the SQLite file took {generated:.0f} s (cached afterwards)." if generated else "SQLite file from the cache."}

| database | attempts | extract (SQL `GROUP BY` into cubes) | compute (pandas) | total | CPU | peak memory | load |
|---|---:|---:|---:|---:|---:|---:|---:|
{rows}

Target (issue 10): all indicators over 10 million attempts in under 30 s on this machine (2 cores).
{verdict}
"""
    write_section("tbb_indicators", body)


if __name__ == "__main__":
    main()
