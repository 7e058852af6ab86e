"""Where the reference DCC keeps its data: ``DCC_DATABASE_URL`` when set (PostgreSQL in production and CI), else a
SQLite file under the user's data directory, so that it runs with no set-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from platformdirs import user_data_dir


def database_url() -> str:
    url = os.environ.get("DCC_DATABASE_URL", "").strip()
    if url:
        return url
    directory = Path(user_data_dir("dcc-recette"))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'dcc.sqlite3'}"


_OID_OVERRIDE: ContextVar[str | None] = ContextVar("dcc_oid_override", default=None)


def dcc_oid() -> str:
    """The OID root of this DCC's identifiers (documents, RCP, custodian). A region sets its own registered OID in
    ``DCC_OID``; the default is under the test branch 1.2.250.1.999 so it never collides with a real one."""
    return _OID_OVERRIDE.get() or os.environ.get("DCC_OID", "1.2.250.1.999.1").strip()


@contextmanager
def oid_override(oid: str | None) -> Iterator[None]:
    """Within the block (this thread / context only), ``dcc_oid()`` is ``oid``: the in-process reference target
    gives each scenario's database its own OID, as each would be a distinct DCC instance, so that the document
    ids two scenarios' databases both number from 1 never collide in a national service shared by the run."""
    token = _OID_OVERRIDE.set(oid)
    try:
        yield
    finally:
        _OID_OVERRIDE.reset(token)


def custodian() -> tuple[str, str]:
    """(name, FINESS) of the structure operating this DCC, the custodian of its CDA documents (CI-SIS wants a
    national structure id there). Set ``DCC_CUSTODIAN_NAME`` / ``DCC_CUSTODIAN_FINESS``; the default FINESS is a
    test value."""
    name = os.environ.get("DCC_CUSTODIAN_NAME", "").strip() or "DCC de référence (dcc-recette)"
    finess = os.environ.get("DCC_CUSTODIAN_FINESS", "").strip() or "990000000"
    return name, finess


class SettingError(ValueError):
    """A setting with a value the DCC cannot use; the message names the environment variable."""


def insi_url() -> str | None:
    """The endpoint of the téléservice INSi (``DCC_INSI_URL``, e.g. the simulator's ``http://127.0.0.1:PORT/insi``);
    None when not configured — qualification then stops with a clear error and care goes on."""
    return os.environ.get("DCC_INSI_URL", "").strip() or None


def insi_timeout() -> float:
    """Seconds the DCC waits for INSi (``DCC_INSI_TIMEOUT``, default 10): past it, the call is an error, not a KO."""
    raw = os.environ.get("DCC_INSI_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else 10.0
    except ValueError:
        raise SettingError(f"DCC_INSI_TIMEOUT={raw!r}: a number of seconds expected") from None
    if value <= 0:
        raise SettingError(f"DCC_INSI_TIMEOUT={raw!r}: must be positive")
    return value


DOWNGRADE_POLICIES = ("provisoire", "validee")


def ins_downgrade_to() -> str:
    """The regional policy (2.3.2.3): the status an identity falls back to after an INSi answer other than 00
    (``DCC_INS_DOWNGRADE_TO``: ``provisoire``, the default, or ``validee``)."""
    raw = os.environ.get("DCC_INS_DOWNGRADE_TO", "").strip().lower() or "provisoire"
    if raw not in DOWNGRADE_POLICIES:
        raise SettingError(f"DCC_INS_DOWNGRADE_TO={raw!r}: one of {', '.join(DOWNGRADE_POLICIES)}")
    return raw
