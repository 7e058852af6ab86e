"""Engine, sessions and migrations. Domain functions receive a ``Session``; whoever calls them (the API, the
harness's in-process target) owns the unit of work (STYLE.md §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

from dcc.settings import database_url

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(connection, _record) -> None:
            connection.isolation_level = None  # the driver's own BEGIN handling is replaced by _begin below
            connection.execute("PRAGMA foreign_keys=ON")  # SQLite enforces foreign keys only when asked
            # WAL: readers never wait for the writer; synchronous=NORMAL in WAL mode stays consistent after a crash
            # of the process (only a power loss can lose the last commits), and spares an fsync per commit.
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")

        @event.listens_for(engine, "begin")
        def _begin(connection) -> None:
            # IMMEDIATE takes the write lock when the transaction starts, so two units of work never both read the
            # audit chain's last entry and append after it (a fork); the others wait (timeout above).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, future=True)


WRITERS_LOCK = 0x64_63_63  # "dcc": the advisory lock key of the journal and audit writers


_MEMO = "dcc.transaction_memo"


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def transaction_memo(session: Session, key: str) -> Any:
    """What ``remember(session, key, …)`` stored in the transaction now running or one enclosing it, else None.

    Why: the audit chain's tail and the writers' lock are facts of one transaction; remembering them spares a
    statement per audit entry and per event (a bulk import writes hundreds of thousands). A value remembered inside
    a savepoint is forgotten once that savepoint ends (rolled back, its writes are gone; released, we simply
    re-read), and everything is forgotten when the transaction ends, committed or not."""
    held = session.info.get(_MEMO, {}).get(key)
    if held is None:
        return None
    owner, value = held
    transaction = _innermost(session)
    while transaction is not None:
        if transaction is owner:
            return value if transaction.is_active else None
        transaction = transaction.parent
    return None


def remember(session: Session, key: str, value: Any) -> None:
    """Keeps ``value`` for ``transaction_memo`` while the innermost transaction now running lasts."""
    session.info.setdefault(_MEMO, {})[key] = (_innermost(session), value)


def serialize_writers(session: Session) -> None:
    """Holds, until the transaction ends, the lock that orders writers of the audit chain and the event journal:
    on PostgreSQL a transaction-level advisory lock (taken once per transaction: it is held until the transaction
    ends); SQLite already serialises writing transactions (BEGIN IMMEDIATE). Without it two transactions could chain
    to the same last audit entry, or commit journal ids out of order (an exporter paging by id would then skip one)."""
    if session.get_bind().dialect.name != "postgresql" or transaction_memo(session, "writers_lock"):
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK})
    remember(session, "writers_lock", True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(url: str | None = None) -> None:
    """Brings the database to the latest schema (Alembic ``upgrade heads``: feature branches of the schema may each have their own head); the migrations ship in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    command.upgrade(config, "heads")
