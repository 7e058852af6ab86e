"""A test instance of the reference DCC served over HTTP keeps each recette scenario's data apart, as the in-process
target does: the recette runs scenarios in parallel, and several of them type the same test identities (the INSi
test platform has a handful), so in one shared database a scenario's identity would match another scenario's
patient (identity vigilance doing its job) and its indicators would count the other's activity.

The scenario is named by ``X-Recette-Scope`` and the run by ``X-Recette-Run`` (docs/test-driver.md). Each (run,
scenario) gets a SQLite database of its own, a copy of one migrated template (a file copy, not a migration), and an
OID of its own, so that the document ids two scenario databases both number from 1 never collide in a national
service the run shares (the DMP simulator keeps every uniqueId). Only for a SQLite-backed test instance: a DCC on
PostgreSQL serves every scope from its one database (run such a target with ``--jobs 1`` and distinct data)."""

from __future__ import annotations

import contextvars
import functools
import hashlib
import itertools
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from dcc import settings
from dcc.db import make_engine, make_session_factory, migrate
from dcc.driver import Driver

run = contextvars.ContextVar[str | None]("dcc_recette_run", default=None)

MAX_SCOPES = 2000  # a bound on what one served instance keeps (each scope is one small SQLite file)


class ScopedDriver:
    """A Driver whose every call runs with its scope's OID (what ``ReferenceSession.call`` does in-process)."""

    def __init__(self, driver: Driver, oid: str) -> None:
        self._driver = driver
        self.oid = oid

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._driver, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def with_oid(*args: Any, **kwargs: Any) -> Any:
            with settings.oid_override(self.oid):
                return attribute(*args, **kwargs)

        return with_oid


class ScopeDatabases:
    def __init__(self, directory: Path | None = None) -> None:
        self._dir = Path(directory or tempfile.mkdtemp(prefix="dcc-scopes-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self._template = self._dir / "template.sqlite3"
        migrate(f"sqlite:///{self._template}")
        self._drivers: dict[tuple[str, str], ScopedDriver] = {}
        self._engines: list[Any] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def driver(self, run_id: str, scope: str) -> ScopedDriver:
        key = (run_id, scope)
        with self._lock:
            found = self._drivers.get(key)
            if found is not None:
                return found
            if len(self._drivers) >= MAX_SCOPES:
                raise RuntimeError(f"more than {MAX_SCOPES} recette scopes on this test instance: restart it")
            number = next(self._numbers)
            path = self._dir / f"scope-{number}.sqlite3"
            shutil.copyfile(self._template, path)
            engine = make_engine(f"sqlite:///{path}")
            self._engines.append(engine)
            arc = int(hashlib.sha256(run_id.encode()).hexdigest()[:8], 16) % 10**9
            base = os.environ.get("DCC_OID", "").strip() or "1.2.250.1.999.1"
            found = self._drivers[key] = ScopedDriver(
                Driver(make_session_factory(engine)), f"{base}.{arc}.{number}"
            )
            return found

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()
        shutil.rmtree(self._dir, ignore_errors=True)
