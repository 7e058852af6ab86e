"""Throwaway databases for the benchmarks: a SQLite file in a temporary directory, or a PostgreSQL database created
next to a server URL and dropped after (even when the run fails), so a benchmark never touches shared data."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@contextmanager
def throwaway(backend: str, prefix: str = "dcc_bench", server: str | None = None) -> Iterator[str]:
    """The URL of an empty database of ``backend`` (``sqlite`` or ``postgresql``), named ``<prefix>_<random>`` on
    PostgreSQL, at ``server`` (default ``DCC_BULK_PG_URL`` or :data:`PG_URL`)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / f'{prefix}.sqlite3'}"
        return
    if backend != "postgresql":
        raise ValueError(f"backend {backend!r}: sqlite or postgresql")
    server = server or os.environ.get("DCC_BULK_PG_URL", PG_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
