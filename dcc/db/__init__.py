"""Persistence of the reference DCC: SQLAlchemy 2 models, sessions, Alembic migrations."""

from dcc.db.base import Base, make_engine, make_session_factory, migrate

__all__ = ["Base", "make_engine", "make_session_factory", "migrate"]
