"""Dependencies shared by the routes: one database session per request, committed when the route returns."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session


def session(request: Request) -> Iterator[Session]:
    """A unit of work per request: commit on success, roll back on any error (nothing half-written)."""
    factory = request.app.state.session_factory
    with factory() as db:
        try:
            yield db
            db.commit()
        except Exception:
            db.rollback()
            raise
