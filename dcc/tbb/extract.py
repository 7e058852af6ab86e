"""Reads the DCC's recorded activity into monthly "cubes": one row per month and combination of dimensions, with
a count. The database does the heavy counting (a ``GROUP BY`` over millions of attempts), pandas gets a few
thousand rows and computes every indicator and window from them (``dcc.tbb.indicators``).

Why a cube and not the rows: 10 million attempts as Python objects cost minutes and gigabytes; grouped in SQL they
are a few seconds and a small frame, on SQLite and PostgreSQL alike. ``cube_from_rows`` builds the same cube from a
row-level frame (benchmarks, or a source that is not the database), so both paths feed the same computation.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

import pandas as pd
from sqlalchemy import Boolean, ColumnElement, and_, case, cast, create_engine, func, literal, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dcc import identifiers
from dcc.db.models import DccEvent, Document, Patient, Transmission, TransmissionAttempt
from dcc.tbb.periods import Period

WORKERS = 2  # the machine's cores; the database does the work, Python threads only wait for it
UNKNOWN = "inconnu"
UNDELIVERED = (
    "failed",
    "pending",
)  # transmission states the dashboard lists  # a FINESS or RPPS the activity did not record

# The dimensions of each cube, in order; ``n`` is the count.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "attempts": ("month", "channel", "kind", "finess", "rpps", "result", "ins_qualified"),
    "documents": ("month", "kind", "finess", "rpps", "first_version"),
    "transmissions": ("month", "channel", "finess", "rpps", "state"),
    "received": ("month", "channel", "kind", "finess", "rpps"),
    "patients": ("month", "identity_status"),
}


@dataclass
class Cubes:
    """The monthly cubes of one span of months; each frame has the columns of ``DIMENSIONS`` plus ``n``."""

    span: Period
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]


def month_of(column: ColumnElement[datetime], dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp, in the database's own dialect."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    # SQLite holds SQLAlchemy's text form "YYYY-MM-DD HH:MM:SS.ffffff": its first 7 characters are the month
    # (cheaper than strftime, which parses the date, over millions of rows).
    return func.substr(column, 1, 7)


def in_span(column: ColumnElement[datetime], span: Period, dialect: str) -> ColumnElement[bool]:
    """``column`` falls in the months of ``span``. PostgreSQL gets the timestamp range (its planner picks an index
    scan or a sequential scan by cost); SQLite gets the month text, which keeps its planner from walking the whole
    ``at`` index row by row when the span covers most of the table (measured: 1.5–2× slower)."""
    if dialect == "postgresql":
        return and_(column >= span.start(), column < span.end())
    return month_of(column, dialect).between(str(span.first), str(span.last))


def normalise(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Same dtypes whatever the source: strings with ``inconnu`` for a missing FINESS/RPPS, booleans, int64."""
    frame = frame.copy()
    for column in DIMENSIONS[name]:
        if column in ("ins_qualified", "first_version"):
            frame[column] = frame[column].fillna(False).astype(bool)
        elif column in ("finess", "rpps"):
            frame[column] = frame[column].fillna(UNKNOWN).astype(str).replace("", UNKNOWN)
        else:
            frame[column] = frame[column].fillna(UNKNOWN).astype(str)
    frame["n"] = frame["n"].astype("int64")
    return frame


def _queries(dialect: str, span: Period) -> dict[str, list]:
    """The ``GROUP BY`` of each cube; the attempts' one in parts of the span, so two workers share it."""
    a, t, d, p = TransmissionAttempt.__table__, Transmission.__table__, Document.__table__, Patient.__table__

    def attempts(part: Period):
        # The attempt rows carry their dimensions (migration 0011_tbb_attempt_cube, copied by the transmission
        # worker when it records the attempt): the count walks the covering index
        # (month, channel, kind, finess, rpps, result, ins_qualified) over the part's months, in the GROUP BY's own
        # order — no join, no sort, no table row read.
        dims = (a.c.month, a.c.channel, a.c.kind, a.c.finess, a.c.rpps, a.c.result, a.c.ins_qualified)
        return (
            select(*dims, func.count())
            .where(a.c.month.between(str(part.first), str(part.last)))
            .group_by(*dims)
        )

    def attempts_joined() -> object:
        # An attempt written without them (month NULL: by a writer that predates the columns and after the
        # migration's backfill, or by hand) is counted the old way, joined to its transmission and document;
        # the index finds these rows at once (NULL sorts first), so when there are none this costs nothing.
        return attempts_through_join(dialect, span, only_without_dimensions=True)

    # Only the transmissions not delivered (given up, or still pending): a few rows found through the
    # (state, next_attempt_at) index, not a scan of millions. They carry their document's FINESS and RPPS (the
    # outbox copies them), so no join either.
    t_month = month_of(t.c.created_at, dialect).label("month")
    transmissions = (
        select(t_month, t.c.channel, t.c.finess, t.c.rpps, t.c.state, func.count())
        .where(t.c.state.in_(UNDELIVERED), in_span(t.c.created_at, span, dialect))
        .group_by(t_month, t.c.channel, t.c.finess, t.c.rpps, t.c.state)
    )
    d_month = month_of(d.c.created_at, dialect).label("month")
    first = case((d.c.version == 1, literal(True)), else_=literal(False)).label("first_version")
    documents = (
        select(d_month, d.c.kind, d.c.finess, d.c.author_rpps, first, func.count())
        .where(in_span(d.c.created_at, span, dialect))
        .group_by(d_month, d.c.kind, d.c.finess, d.c.author_rpps, first)
    )
    p_month = month_of(p.c.created_at, dialect).label("month")
    patients = (
        select(p_month, p.c.identity_status, func.count())
        .where(in_span(p.c.created_at, span, dialect))
        .group_by(p_month, p.c.identity_status)
    )
    return {
        # The long scans first, then the attempts' parts: two workers take the next job as they finish, so the
        # parts even out what the scans leave unbalanced.
        "documents": [documents],
        "patients": [patients],
        "transmissions": [transmissions],
        "attempts": [attempts(part) for part in _parts(span, 2 * WORKERS)],
        "attempts_joined": [attempts_joined()],
    }


def _parts(span: Period, count: int) -> list[Period]:
    """``span`` cut into up to ``count`` consecutive ranges of whole months, of (nearly) equal length."""
    months = span.months()
    count = max(1, min(count, len(months)))
    bounds = [round(i * len(months) / count) for i in range(count + 1)]
    return [Period.between("", months[lo], months[hi - 1]) for lo, hi in pairwise(bounds)]


def attempts_through_join(dialect: str, span: Period, only_without_dimensions: bool = False):
    """The attempts' cube the way it was counted before migration 0011_tbb_attempt_cube: each attempt joined to its
    transmission and document. Used for the attempts without their copied dimensions, and by the benchmark as
    the reference it compares the covering index with."""
    a, t, d = TransmissionAttempt.__table__, Transmission.__table__, Document.__table__
    finess = func.coalesce(t.c.finess, d.c.finess)
    rpps = func.coalesce(t.c.rpps, d.c.author_rpps)
    month = month_of(a.c.at, dialect).label("month")
    qualified = cast(a.c.ins_qualified, Boolean).label("ins_qualified")
    where = [in_span(a.c.at, span, dialect)]
    if only_without_dimensions:
        where.insert(0, a.c.month.is_(None))
    return (
        select(month, t.c.channel, d.c.kind, finess, rpps, a.c.result, qualified, func.count())
        .select_from(a.join(t, t.c.id == a.c.transmission_id).join(d, d.c.id == t.c.document_id))
        .where(*where)
        .group_by(month, t.c.channel, d.c.kind, finess, rpps, a.c.result, qualified)
    )


def load_cubes(source: Session | Connection | Engine, span: Period) -> Cubes:
    """Counts the activity of ``span`` (a range of months) by month and dimension, in the database.

    Given a ``Session`` or a ``Connection``, the queries run one after the other in its transaction (they see what
    it has written). Given an ``Engine``, they run on two connections at once (two cores: measured in
    ``benchmarks/tbb_indicators.py``), and see what is committed."""
    if isinstance(source, Engine) and source.url.database not in (None, "", ":memory:"):
        dialect = source.dialect.name
        jobs = [(name, q) for name, qs in _queries(dialect, span).items() for q in qs]
        reader = _reader(source)

        def run(job):
            with reader.connect() as connection:
                return job[0], connection.execute(job[1]).all()

        try:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                results = list(pool.map(run, jobs))
            with reader.connect() as connection:
                received = _received(connection, span, dialect)
        finally:
            if reader is not source:
                reader.dispose()
    elif isinstance(source, Engine):  # an in-memory database: only its own connection sees it
        with source.connect() as connection:
            results, received = _sequential(connection, span)
    else:
        results, received = _sequential(source.connection() if isinstance(source, Session) else source, span)
    cubes = Cubes(span)
    for name in ("attempts", "transmissions", "documents", "patients"):
        rows = [row for kind, part in results if kind == name for row in part]
        joined = [row for kind, part in results if kind == f"{name}_joined" for row in part]
        frame = normalise(pd.DataFrame.from_records(rows + joined, columns=[*DIMENSIONS[name], "n"]), name)
        if joined:  # attempts counted both ways may fall in the same cells
            frame = frame.groupby(list(DIMENSIONS[name]), as_index=False, sort=False)["n"].sum()
        cubes.frames[name] = frame
    cubes.frames["received"] = received
    return cubes


def _sequential(connection: Connection, span: Period) -> tuple[list, pd.DataFrame]:
    dialect = connection.dialect.name
    results = [
        (name, connection.execute(q).all()) for name, qs in _queries(dialect, span).items() for q in qs
    ]
    return results, _received(connection, span, dialect)


def _reader(engine: Engine) -> Engine:
    """Connections that only read. The DCC's SQLite engine opens every transaction with ``BEGIN IMMEDIATE`` (one
    writer at a time, for the audit chain), which would also serialise these readers and hold up the DCC's writers
    for the whole count; a plain engine on the same file reads without a write lock (WAL: readers never wait)."""
    if engine.dialect.name != "sqlite":
        return engine
    return create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 30})


def _received(connection: Connection, span: Period, dialect: str) -> pd.DataFrame:
    """Documents received from a peer DCC or a DPI: the ``document.received`` events of the journal (their number
    is small — one per received document — so the JSON is read in Python, the same way on both databases)."""
    e, d = DccEvent.__table__, Document.__table__
    rows = connection.execute(
        select(month_of(e.c.at, dialect), e.c.data).where(
            e.c.type == "document.received", in_span(e.c.at, span, dialect)
        )
    ).all()
    # The FINESS and RPPS of a received document: the event's, else those of the DCC's stored copy, found by its
    # id when the id is ours, else by its set (a peer's FRCP is stored under the peer's set id).
    by_id: dict[object, tuple[str | None, str | None]] = {}
    by_set: dict[object, tuple[str | None, str | None]] = {}
    local = [_local_id(data.get("document_id")) for _, data in rows]
    sets = [_set_key(data.get("set_id")) for _, data in rows]
    for column, wanted, found in (
        (d.c.id, sorted({i for i in local if i is not None}), by_id),
        (d.c.set_id, sorted({k for s in sets if s for k in s}), by_set),
    ):
        for chunk in range(0, len(wanted), 500):
            query = select(column, d.c.finess, d.c.author_rpps).where(column.in_(wanted[chunk : chunk + 500]))
            for key, doc_finess, doc_rpps in connection.execute(query):
                found[key] = (doc_finess, doc_rpps)
    records = []
    for (month, data), doc_id, set_keys in zip(rows, local, sets, strict=True):
        stored = by_id.get(doc_id) or next((by_set[k] for k in set_keys if k in by_set), (None, None))
        records.append(
            (
                month,
                data.get("channel"),
                data.get("kind"),
                data.get("finess") or stored[0],
                data.get("rpps") or stored[1],
                1,
            )
        )
    frame = pd.DataFrame.from_records(records, columns=[*DIMENSIONS["received"], "n"])
    frame = normalise(frame, "received")
    return frame.groupby(list(DIMENSIONS["received"]), as_index=False, sort=False)["n"].sum()


def _set_key(set_id: object) -> tuple[str, ...]:
    """The forms a set id may be stored in (with or without ``urn:uuid:``)."""
    if not isinstance(set_id, str) or not set_id:
        return ()
    bare = set_id.removeprefix("urn:uuid:")
    return (bare, f"urn:uuid:{bare}")


def _local_id(document_id: object) -> int | None:
    """The DCC's own row id in a ``root^id`` document id, when it is one of ours (a number after ``^``)."""
    if not isinstance(document_id, str) or "^" not in document_id:
        return None
    root, tail = document_id.rsplit("^", 1)
    return int(tail) if root == identifiers.document_root() and tail.isdigit() else None


def cube_from_rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The cube ``name`` from a row-level frame that has its dimensions as columns (``month`` as ``YYYY-MM``)."""
    dims = list(DIMENSIONS[name])
    grouped = frame.groupby(dims, observed=True, sort=False).size().reset_index(name="n")
    return normalise(grouped, name)
