"""A migrated database per test module: SQLite in a temporary file, or — when DCC_DATABASE_URL points at
PostgreSQL (the CI's second pass) — a fresh database created for the module and dropped after it, so parallel
workers and reruns never share state."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dcc.db import make_engine, make_session_factory, migrate


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    url = os.environ.get("DCC_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'dcc.sqlite3'}"
        return
    name = f"dcc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def engine(database_url):
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    factory = make_session_factory(engine)
    with factory() as session:
        yield session
        session.rollback()
