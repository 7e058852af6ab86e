"""The append-only, hash-chained audit log (issue 4): who, what, when, before and after, for every state change.

Each entry's hash is the sha256 of its canonical JSON content plus the previous entry's hash, so editing or deleting
any entry breaks the chain from that point: ``verify`` names the first entry that does not hold.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import events
from dcc.db.base import remember, serialize_writers, transaction_memo
from dcc.db.models import AuditEntry

GENESIS = "0" * 64
_TAIL = "audit_tail"  # the hash of the chain's last entry, remembered for the transaction
_INSERT = AuditEntry.__table__.insert()
_LAST_HASH = select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


def _digest(
    previous_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> str:
    content = {
        "at": at.astimezone(UTC).isoformat(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((previous_hash + canonical).encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
    at: datetime | None = None,
) -> int:
    """Appends an entry in the caller's transaction and returns its id: the audit and the change it records commit
    together.

    The chain's tail is read once per transaction (the writers' lock is held until it ends, so no one else appends
    meanwhile) and then remembered; the entry is one INSERT, not an ORM unit of work (it is written on every change).
    """
    serialize_writers(session)
    session.flush()  # what this entry records is written first, as when the entry was flushed with it
    previous = transaction_memo(session, _TAIL) or session.scalar(_LAST_HASH) or GENESIS
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    values = {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
        "previous_hash": previous,
        "hash": _digest(previous, at, actor, action, entity, str(entity_id), before, after),
    }
    key = session.connection().execute(_INSERT, values).inserted_primary_key[0]
    remember(session, _TAIL, values["hash"])
    events.emit(
        session,
        "audit.recorded",
        entry_id=key,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=values["entity_id"],
        hash=values["hash"],
        previous_hash=previous,
    )
    return key


def verify(session: Session) -> list[str]:
    """Problems in the chain, first one first (empty when intact)."""
    problems = []
    previous = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
        expected = _digest(
            previous, at, entry.actor, entry.action, entry.entity, entry.entity_id, entry.before, entry.after
        )
        if entry.previous_hash != previous:
            problems.append(
                f"audit entry {entry.id}: previous hash does not follow entry before it (deleted entry?)"
            )
        elif entry.hash != expected:
            problems.append(f"audit entry {entry.id}: content does not match its hash (modified)")
        previous = entry.hash
    return problems
