"""Banque de données thérapeutiques over HTTP (2.1.5.1): entries, per-user favourites, entering a document field
from the bank."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dcc.api.deps import session as db_session
from dcc.api.routes._resources_common import not_found, refused
from dcc.db.models import Document
from dcc.db.models_resources import BdtEntry
from dcc.services import bdt

router = APIRouter(prefix="/bdt", tags=["banque de données thérapeutiques"])
Db = Annotated[Session, Depends(db_session)]
Kind = Literal["protocole", "molecule", "effet_secondaire"]


class EntryIn(BaseModel):
    kind: Kind
    label: str = Field(min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=40)
    code_system: str | None = Field(default=None, max_length=80)
    details: str | None = None
    author: str = Field(min_length=1, max_length=64)


class EntryChange(BaseModel):
    author: str = Field(min_length=1, max_length=64)
    label: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=40)
    code_system: str | None = Field(default=None, max_length=80)
    details: str | None = None
    active: bool | None = None


class EntryOut(BaseModel):
    id: int
    kind: str
    label: str
    code: str | None
    code_system: str | None
    details: str | None
    active: bool
    favorite: bool = False


class FieldFromBank(BaseModel):
    entry_id: int
    author: str = Field(min_length=1, max_length=64)


def _out(entry: BdtEntry, favorite: bool = False) -> EntryOut:
    return EntryOut(
        id=entry.id,
        kind=entry.kind,
        label=entry.label,
        code=entry.code,
        code_system=entry.code_system,
        details=entry.details,
        active=entry.active,
        favorite=favorite,
    )


def _entry(db: Session, entry_id: int) -> BdtEntry:
    try:
        return bdt.get_entry(db, entry_id)
    except bdt.BdtError as error:
        raise refused(error) from None


@router.post("/entries", status_code=201, response_model=EntryOut)
def create_entry(body: EntryIn, db: Db) -> EntryOut:
    try:
        entry = bdt.create_entry(
            db,
            body.kind,
            body.label,
            body.author,
            code=body.code,
            code_system=body.code_system,
            details=body.details,
        )
    except bdt.BdtError as error:
        raise refused(error) from None
    return _out(entry)


@router.patch("/entries/{entry_id}", response_model=EntryOut)
def change_entry(entry_id: int, body: EntryChange, db: Db) -> EntryOut:
    entry = _entry(db, entry_id)
    changes = body.model_dump(exclude_unset=True, exclude={"author"})
    try:
        bdt.update_entry(db, entry, body.author, **changes)
    except bdt.BdtError as error:
        raise refused(error) from None
    return _out(entry)


@router.get("/entries", response_model=list[EntryOut])
def list_entries(
    db: Db,
    user: Annotated[
        str, Query(min_length=1, max_length=64, description="who is looking (their favourites first)")
    ],
    kind: Kind | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> list[EntryOut]:
    return [_out(item.entry, item.favorite) for item in bdt.list_entries(db, user, kind, q)]


@router.put("/favorites/{user}/{entry_id}", status_code=204)
def add_favorite(user: str, entry_id: int, db: Db) -> None:
    try:
        bdt.add_favorite(db, user, _entry(db, entry_id))
    except bdt.BdtError as error:
        raise refused(error) from None


@router.delete("/favorites/{user}/{entry_id}", status_code=204)
def remove_favorite(user: str, entry_id: int, db: Db) -> None:
    if not bdt.remove_favorite(db, user, _entry(db, entry_id)):
        raise not_found("unknown_favorite", f"entry {entry_id} is not a favourite of {user}")


@router.post("/documents/{document_id}/fields/{field}", status_code=201)
def enter_from_bank(document_id: int, field: str, body: FieldFromBank, db: Db) -> dict[str, object]:
    """Fills a field of an FRCP or PPS (``proposition_therapeutique``) with a bank entry (BDT.01)."""
    document = db.get(Document, document_id)
    if document is None:
        raise not_found("unknown_document", f"no document {document_id}")
    try:
        entry = bdt.enter_from_bank(db, document, field, _entry(db, body.entry_id), body.author)
    except ValueError as error:  # BdtError, or the document lifecycle's DocumentRuleError
        raise refused(error) from None
    return {"document_id": document_id, "field": field, "value": entry.value, "entry_id": body.entry_id}
