"""Where the reference DCC keeps its data: ``DCC_DATABASE_URL`` when set (PostgreSQL in production and CI), else a
SQLite file under the user's data directory, so that it runs with no set-up."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir


def database_url() -> str:
    url = os.environ.get("DCC_DATABASE_URL", "").strip()
    if url:
        return url
    directory = Path(user_data_dir("dcc-recette"))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'dcc.sqlite3'}"


def dcc_oid() -> str:
    """The OID root of this DCC's identifiers (documents, RCP, custodian). A region sets its own registered OID in
    ``DCC_OID``; the default is under the test branch 1.2.250.1.999 so it never collides with a real one."""
    return os.environ.get("DCC_OID", "1.2.250.1.999.1").strip()


def custodian() -> tuple[str, str]:
    """(name, FINESS) of the structure operating this DCC, the custodian of its CDA documents (CI-SIS wants a
    national structure id there). Set ``DCC_CUSTODIAN_NAME`` / ``DCC_CUSTODIAN_FINESS``; the default FINESS is a
    test value."""
    name = os.environ.get("DCC_CUSTODIAN_NAME", "").strip() or "DCC de référence (dcc-recette)"
    finess = os.environ.get("DCC_CUSTODIAN_FINESS", "").strip() or "990000000"
    return name, finess
