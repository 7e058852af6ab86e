"""Banque de données thérapeutiques (cahier des charges 2.1.5.1): a local bank of protocols, molecules and side
effects that its users set up, with favourites per user, from which the proposition thérapeutique of an FRCP or a
PPS is entered (BDT.01, BDT.02).

Why listing emits an event: BDT.02 is judged on what each user was *shown* (``bdt.list_shown`` with the entry at
the top and whether an entry flagged as favourite belongs to someone else), not on the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dcc import audit, events, faults
from dcc.db.models import Document, FieldEntry
from dcc.db.models_resources import BdtEntry, BdtFavorite
from dcc.services import documents

KINDS = ("protocole", "molecule", "effet_secondaire")
EDITABLE = ("label", "code", "code_system", "details", "active")

faults.register(
    "favourites_shared_between_users",
    "the bank lists every user's favourites as favourites of whoever looks (favourites are not per user)",
    breaks=["BDT.02"],
)
faults.register(
    "bdt_entry_not_linked",
    "a value picked from the bank is entered as free text: the entry it came from is not recorded",
    breaks=["BDT.01"],
)


class BdtError(ValueError):
    """A refused change of the bank; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ListedEntry:
    entry: BdtEntry
    favorite: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _snapshot(entry: BdtEntry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in ("kind", *EDITABLE)}


def _clean(value: str | None, name: str, limit: int, required: bool = False) -> str | None:
    value = (value or "").strip() or None
    if required and value is None:
        raise BdtError("missing_field", f"{name}: required")
    if value is not None and len(value) > limit:
        raise BdtError("too_long", f"{name}: {len(value)} characters, at most {limit}")
    return value


def get_entry(session: Session, entry_id: int) -> BdtEntry:
    entry = session.get(BdtEntry, entry_id)
    if entry is None:
        raise BdtError("unknown_entry", f"bank entry {entry_id} does not exist")
    return entry


def create_entry(
    session: Session,
    kind: str,
    label: str,
    author: str,
    code: str | None = None,
    code_system: str | None = None,
    details: str | None = None,
) -> BdtEntry:
    """Adds a protocol, molecule or side effect to the bank (the bank is set up by its users, 2.1.5.1)."""
    if kind not in KINDS:
        raise BdtError("unknown_kind", f"kind {kind!r} is not one of {', '.join(KINDS)}")
    label = _clean(label, "label", 200, required=True)
    code = _clean(code, "code", 40)
    code_system = _clean(code_system, "code_system", 80)
    if session.scalar(select(BdtEntry.id).where(BdtEntry.kind == kind, BdtEntry.label == label)):
        raise BdtError("duplicate_entry", f"the bank already has the {kind} {label!r}")
    entry = BdtEntry(
        kind=kind,
        label=label,
        code=code,
        code_system=code_system,
        details=details,
        active=True,
        created_by=author,
        created_at=_now(),
    )
    session.add(entry)
    session.flush()
    events.emit(
        session,
        "bdt.entry_created",
        entry_id=str(entry.id),
        kind=kind,
        label=label,
        code=code,
        author=author,
    )
    audit.record(session, author, "bdt.entry_created", "bdt_entry", str(entry.id), None, _snapshot(entry))
    return entry


def update_entry(session: Session, entry: BdtEntry, author: str, **changes: Any) -> BdtEntry:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise BdtError("not_editable", f"field(s) {', '.join(unknown)} cannot be changed")
    if "label" in changes:
        changes["label"] = _clean(changes["label"], "label", 200, required=True)
        clash = session.scalar(
            select(BdtEntry.id).where(
                BdtEntry.kind == entry.kind, BdtEntry.label == changes["label"], BdtEntry.id != entry.id
            )
        )
        if clash:
            raise BdtError("duplicate_entry", f"the bank already has the {entry.kind} {changes['label']!r}")
    before = _snapshot(entry)
    for key, value in changes.items():
        setattr(entry, key, value)
    after = _snapshot(entry)
    if after == before:
        return entry
    session.flush()
    events.emit(
        session,
        "bdt.entry_updated",
        entry_id=str(entry.id),
        fields=sorted(k for k in after if after[k] != before[k]),
        author=author,
    )
    audit.record(session, author, "bdt.entry_updated", "bdt_entry", str(entry.id), before, after)
    return entry


def add_favorite(session: Session, user_id: str, entry: BdtEntry) -> BdtFavorite:
    if not user_id:
        raise BdtError("no_user", "a favourite belongs to a user")
    existing = session.scalar(
        select(BdtFavorite).where(BdtFavorite.user_id == user_id, BdtFavorite.entry_id == entry.id)
    )
    if existing is not None:
        return existing
    favorite = BdtFavorite(user_id=user_id, entry_id=entry.id, at=_now())
    session.add(favorite)
    session.flush()
    events.emit(session, "bdt.favorite_added", user_id=user_id, entry_id=str(entry.id))
    audit.record(
        session, user_id, "bdt.favorite_added", "bdt_entry", str(entry.id), None, {"user_id": user_id}
    )
    return favorite


def remove_favorite(session: Session, user_id: str, entry: BdtEntry) -> bool:
    favorite = session.scalar(
        select(BdtFavorite).where(BdtFavorite.user_id == user_id, BdtFavorite.entry_id == entry.id)
    )
    if favorite is None:
        return False
    session.delete(favorite)
    session.flush()
    events.emit(session, "bdt.favorite_removed", user_id=user_id, entry_id=str(entry.id))
    audit.record(
        session, user_id, "bdt.favorite_removed", "bdt_entry", str(entry.id), {"user_id": user_id}, None
    )
    return True


def favorite_ids(session: Session, user_id: str) -> set[int]:
    """The entries this user marked; with the fault on, everybody's (the bug BDT.02 must catch)."""
    query = select(BdtFavorite.entry_id)
    if not faults.active("favourites_shared_between_users"):
        query = query.where(BdtFavorite.user_id == user_id)
    return set(session.scalars(query))


def list_entries(
    session: Session, user_id: str, kind: str | None = None, query: str | None = None
) -> list[ListedEntry]:
    """Active entries, the user's favourites first, then by label; records what the user was shown."""
    if kind is not None and kind not in KINDS:
        raise BdtError("unknown_kind", f"kind {kind!r} is not one of {', '.join(KINDS)}")
    statement = select(BdtEntry).where(BdtEntry.active.is_(True))
    if kind is not None:
        statement = statement.where(BdtEntry.kind == kind)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(
            func.lower(BdtEntry.label).like(pattern)
            | func.lower(func.coalesce(BdtEntry.code, "")).like(pattern)
        )
    marked = favorite_ids(session, user_id)
    entries = sorted(session.scalars(statement), key=lambda e: (e.id not in marked, e.label.casefold(), e.id))
    listed = [ListedEntry(e, e.id in marked) for e in entries]
    own = set(
        session.scalars(select(BdtFavorite.entry_id).where(BdtFavorite.user_id == user_id))
    )  # checked against the user's own favourites, whatever the listing believed
    events.emit(
        session,
        "bdt.list_shown",
        user_id=user_id,
        kind=kind,
        count=len(listed),
        first_entry_id=str(listed[0].entry.id) if listed else None,
        favorite_ids=[str(item.entry.id) for item in listed if item.favorite],
        favorite_of_other_user=any(item.favorite and item.entry.id not in own for item in listed),
    )
    return listed


def enter_from_bank(
    session: Session, document: Document, field: str, entry: BdtEntry, author: str
) -> FieldEntry:
    """Fills a field of an FRCP or PPS (typically ``proposition_therapeutique``) with a bank entry: the value is
    the entry's label (and code), and the entry id is traced with the entry (BDT.01)."""
    if not entry.active:
        raise BdtError("inactive_entry", f"bank entry {entry.id} is no longer in use")
    value = f"{entry.label} ({entry.code})" if entry.code else entry.label
    linked = None if faults.active("bdt_entry_not_linked") else str(entry.id)
    return documents.enter(session, document, field, value, author, bdt_entry_id=linked)
