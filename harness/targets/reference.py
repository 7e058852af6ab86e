"""The reference DCC in-process: each scenario gets its own fresh SQLite database (a copy of one migrated
template, so isolation costs a file copy, not a migration), and the faults asked for are switched on around
every call."""

from __future__ import annotations

import functools
import itertools
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import dcc
from dcc import faults as dcc_faults
from dcc import settings as dcc_settings
from dcc.db import make_engine, make_session_factory, migrate
from dcc.driver import Driver, load_operations
from dcc.driver import NotFound as DriverNotFound
from dcc.driver import Refused as DriverRefused
from harness.targets.base import NotFound, Refused, Target, TargetError, TargetSession


class ReferenceSession(TargetSession):
    def __init__(self, scope: str, path: Path, faults: tuple[str, ...], oid: str | None = None) -> None:
        self.scope = scope
        self.path = path
        self.oid = oid
        self._engine = make_engine(f"sqlite:///{path}")
        self._driver = Driver(make_session_factory(self._engine))
        self._faults = faults
        self.probes: set[str] = set()  # the faults the DCC asked about while serving this scenario

    def call(self, operation: str, /, **arguments: Any) -> dict[str, Any]:
        function = getattr(self._driver, operation, None)
        if function is None or operation.startswith("_") or operation in ("call", "for_url"):
            if operation not in load_operations():
                raise TargetError(f"the reference DCC has no test-driver operation {operation!r}")
            function = functools.partial(self._driver.call, operation)
        with (
            dcc_faults.enabled(*self._faults),
            dcc_faults.recording(self.probes),
            dcc_settings.oid_override(self.oid),
        ):
            try:
                return function(**arguments)
            except DriverRefused as refused:
                raise Refused(refused.reason, str(refused)) from None
            except DriverNotFound as missing:
                raise NotFound(str(missing)) from None

    def events(self) -> list[dict[str, Any]]:
        with dcc_settings.oid_override(self.oid):
            return self._driver.events()

    def close(self) -> None:
        self._engine.dispose()


class ReferenceTarget(Target):
    name = "reference"

    def __init__(
        self,
        faults: tuple[str, ...] | list[str] = (),
        workdir: Path | None = None,
        template: Path | None = None,
    ) -> None:
        """``template``: an already migrated database file to start each scenario from (saves the migration in
        every worker process of a run: ``recipe``)."""
        catalogue = (
            dcc_faults.load_all() if faults else dcc_faults.CATALOGUE
        )  # every module registers its own
        unknown = [f for f in faults if f not in catalogue]
        if unknown:
            known = ", ".join(sorted(dcc_faults.CATALOGUE)) or "none"
            raise TargetError(
                f"unknown fault(s) {', '.join(unknown)} (known: {known}; see `dcc-recette faults`)"
            )
        self.faults = tuple(faults)
        self._owned = workdir is None
        self._dir = Path(workdir or tempfile.mkdtemp(prefix="dcc-reference-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self._template = self._dir / "template.sqlite3"
        if template is not None:
            shutil.copyfile(template, self._template)
        else:
            migrate(f"sqlite:///{self._template}")
        self._sessions: list[ReferenceSession] = []
        # each scenario's database is a DCC instance of its own: its own OID (document ids are unique in the
        # national services the run shares: the DMP registry keeps every uniqueId of the run)
        self._run_arc = secrets.randbelow(10**9)
        self._numbers = itertools.count(1)
        self._saved_environment: dict[str, str | None] = {}

    def recipe(self) -> dict[str, Any]:
        """A worker process's reference DCC: the same faults, databases copied from this target's template."""
        return {"kind": "reference", "faults": list(self.faults), "template": str(self._template.resolve())}

    def configure(self, environment: dict[str, str]) -> None:
        """The in-process DCC reads its settings from the process environment: set them, or restore what was there."""
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "reference",
            "implementation": "dcc-recette reference DCC (in-process)",
            "version": getattr(dcc, "__version__", "0.1.0"),
            "faults": list(self.faults),
        }

    def session(self, scope: str, faults: tuple[str, ...] | None = None) -> ReferenceSession:
        """``faults``: this scenario's faults instead of the target's (the fault proof's workers switch them per
        scenario on one target)."""
        if (
            faults and not set(faults) <= dcc_faults.CATALOGUE.keys()
        ):  # a fault's module may not be imported yet
            dcc_faults.load_all()
        path = self._dir / f"{scope.replace('/', '_')}.sqlite3"
        shutil.copyfile(self._template, path)
        base = os.environ.get("DCC_OID", "").strip() or "1.2.250.1.999.1"
        oid = f"{base}.{self._run_arc}.{next(self._numbers)}"
        session = ReferenceSession(scope, path, self.faults if faults is None else tuple(faults), oid)
        self._sessions.append(session)
        return session

    def forget(self, scope: str) -> set[str]:
        """Drops the sessions of ``scope`` and their databases (a worker running hundreds of scenarios keeps no
        file of the finished ones); returns the faults they asked about."""
        probes: set[str] = set()
        for session in [s for s in self._sessions if s.scope == scope]:
            probes |= session.probes
            session.close()
            session.path.unlink(missing_ok=True)
            self._sessions.remove(session)
        return probes

    def close(self) -> None:
        self.configure({})
        for session in self._sessions:
            session.close()
        if self._owned:
            shutil.rmtree(self._dir, ignore_errors=True)
