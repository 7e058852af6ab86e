"""The DCC's event journal, exported in the trace envelope of docs/trace-events.md (``source: dcc``).

Why a journal and not log lines: the recette judges the DCC on what it *did*, so each event is written in the same
transaction as the change it reports (a rolled-back change leaves no event), in commit order, and the test-driver
API serves it to the harness. The DCC does not import the harness: the envelope is plain JSON here.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc.db.base import serialize_writers
from dcc.db.models import DccEvent

SOURCE = "dcc"
_INSERT = DccEvent.__table__.insert()
# The recette scenario on whose behalf the DCC acts (the test-driver API sets it from the X-Recette-Scope header),
# so that scenarios run in parallel against one DCC each get their own slice of the journal. None in production.
scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("dcc_event_scope", default=None)


def emit(
    session: Session,
    type: str,
    artifacts: list[str] | None = None,
    occurred_at: datetime | None = None,
    **data: Any,
) -> int:
    """Records one event in the caller's transaction and returns its ``seq`` (the journal order); ``data`` holds
    the catalogue's fields for ``type``.
    ``occurred_at``: when it happened, if earlier than now (a request recorded with its outcome, after a call to a
    national service, keeps the time it was made, so the trace puts it before what the service received)."""
    serialize_writers(session)
    values = {
        "at": occurred_at or datetime.now(UTC),
        "type": type,
        "data": _plain(data),
        "artifacts": artifacts or None,
        "scope": scope.get(),
    }
    # What the event reports is written first (as when the event was flushed with it); the event itself is one
    # INSERT on the session's connection, not a unit of work of its own: the journal is written on every change,
    # and the ORM's flush cost several times the statement. Its id is the journal order, given at this point.
    session.flush()
    return session.connection().execute(_INSERT, values).inserted_primary_key[0]


def envelope(event: DccEvent) -> dict[str, Any]:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    record: dict[str, Any] = {
        "id": f"dcc-{event.id}",
        "seq": event.id,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "source": SOURCE,
        "type": event.type,
        "data": event.data,
    }
    if event.artifacts:
        record["artifacts"] = list(event.artifacts)
    return record


def export(
    session: Session, after: int = 0, limit: int | None = None, only_scope: str | None = None
) -> Iterator[dict[str, Any]]:
    """Events with ``seq`` greater than ``after``, oldest first, as envelope dicts (what the driver API serves);
    with ``only_scope``, only those caused on behalf of that scenario."""
    query = select(DccEvent).where(DccEvent.id > after).order_by(DccEvent.id)
    if only_scope is not None:
        query = query.where(DccEvent.scope == only_scope)
    if limit is not None:
        query = query.limit(limit)
    for event in session.scalars(query):
        yield envelope(event)


def _plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO strings, tuples and sets as lists (the column is JSON on both databases)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value
