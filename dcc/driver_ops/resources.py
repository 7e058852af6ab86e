"""Test-driver operations of the resources (2.1.5): therapeutic data bank, PS directory, RCP directory and sessions."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dcc.db.models import Document, Patient
from dcc.driver import NotFound, operation
from dcc.services import bdt, directory, rcp
from dcc.services.annuaire_client import HttpAnnuaireClient


def _decode(content_base64: str, what: str) -> bytes:
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise directory.DirectoryError("bad_base64", f"{what}: content is not base64") from None


def _document(session: Session, document_id: str) -> Document:
    from dcc.driver import Driver

    return Driver._document(session, document_id)


def _patient(session: Session, patient_id: str) -> Patient:
    from dcc.driver import Driver

    return Driver._patient(session, patient_id)


# -- banque de données thérapeutiques -----------------------------------------------------------------------------


@operation("bdt_create_entry", "POST", "/driver/bdt/entries")
def bdt_create_entry(
    session: Session, kind: str, label: str, author: str, code: str | None = None
) -> dict[str, Any]:
    """Add an entry (protocol, molecule…) to the therapeutic data bank."""
    entry = bdt.create_entry(session, kind, label, author, code=code)
    return {"entry_id": str(entry.id), "kind": entry.kind, "label": entry.label}


@operation("bdt_add_favorite", "POST", "/driver/bdt/favorites")
def bdt_add_favorite(session: Session, user_id: str, entry_id: str) -> dict[str, Any]:
    """Mark a bank entry as one of a user's favourites."""
    bdt.add_favorite(session, user_id, bdt.get_entry(session, int(entry_id)))
    return {"user_id": user_id, "entry_id": entry_id}


@operation("bdt_list", "POST", "/driver/bdt/listings")
def bdt_list(session: Session, user_id: str, kind: str | None = None) -> dict[str, Any]:
    """The bank as a user sees it (their favourites first)."""
    listed = bdt.list_entries(session, user_id, kind=kind)
    return {
        "user_id": user_id,
        "entries": [
            {"entry_id": str(e.entry.id), "label": e.entry.label, "favorite": e.favorite} for e in listed
        ],
    }


@operation("bdt_enter", "POST", "/driver/documents/{document_id}/entries-from-bank")
def bdt_enter(session: Session, document_id: str, field: str, entry_id: str, author: str) -> dict[str, Any]:
    """Fill a document field from a bank entry (e.g. the therapeutic proposal of an FRCP)."""
    document = _document(session, document_id)
    bdt.enter_from_bank(session, document, field, bdt.get_entry(session, int(entry_id)), author)
    return {"document_id": document_id, "field": field, "entry_id": entry_id}


# -- annuaire des professionnels ----------------------------------------------------------------------------------


@operation("directory_import", "POST", "/driver/directory/imports", transactional=False)
def directory_import(
    sessions: sessionmaker[Session],
    file: str,
    content_base64: str,
    author: str,
    expected_rejected: int | None = None,
) -> dict[str, Any]:
    """Integrate an Annuaire Santé extraction file (PS_LibreAcces_Personne_activite or the MSSanté extraction)."""
    content = _decode(content_base64, file)
    report = directory.run_import(
        sessions, content.splitlines(keepends=True), file, author, expected_rejected
    )
    return report.as_dict()


@operation("directory_search_rpps", "POST", "/driver/directory/rpps-searches")
def directory_search_rpps(session: Session, rpps: str, user: str) -> dict[str, Any]:
    """Look a professional up by RPPS (through the Annuaire Santé FHIR API when configured)."""
    client = HttpAnnuaireClient.from_env()
    try:
        found, source, error = directory.lookup_rpps(session, user, rpps, client)
    finally:
        if client is not None:
            client.close()
    return {"source": source, "error": error, "contacts": [directory.describe(c) for c in found]}


@operation("directory_search", "POST", "/driver/directory/searches")
def directory_search(
    session: Session, user: str, name: str | None = None, mss: str | None = None
) -> dict[str, Any]:
    """Search the local contact directory by name or MSSanté address."""
    return {"contacts": [directory.describe(c) for c in directory.search(session, user, name=name, mss=mss)]}


# -- RCP ------------------------------------------------------------------------------------------------------------


@operation("rcp_load_referential", "POST", "/driver/rcp/referential")
def rcp_load_referential(session: Session, file: str, content_base64: str, author: str) -> dict[str, Any]:
    """Load the national RCP referential (CSV layout of docs/resources.md)."""
    content = _decode(content_base64, file)
    report = rcp.load_referential(session, content.splitlines(keepends=True), file, author)
    return {"file": file, "created": report.created, "updated": report.updated, "rejects": report.rejects}


@operation("rcp_plan_session", "POST", "/driver/rcp/sessions")
def rcp_plan_session(
    session: Session,
    rcp_code: str,
    title: str,
    date: str,
    place: str,
    participants: list[dict[str, Any]],
    author: str,
    visio: bool = False,
) -> dict[str, Any]:
    """Plan a session of an RCP with its expected participants (a responsible and a deputy among them)."""
    try:
        when = datetime.fromisoformat(date)
    except ValueError:
        raise rcp.RcpError("invalid_date", f"date {date!r}: ISO 8601 expected") from None
    planned = rcp.plan_session(
        session, rcp.get_rcp(session, rcp_code), title, when, place, participants, author, visio=visio
    )
    return rcp.describe_session(session, planned)


@operation("rcp_register", "POST", "/driver/rcp/sessions/{session_id}/registrations")
def rcp_register(
    session: Session, session_id: str, patient_id: str, doctor: str, frcp_id: str | None = None
) -> dict[str, Any]:
    """Register a patient's file to a session (the treating doctor)."""
    planned = _session(session, session_id)
    document = _document(session, frcp_id) if frcp_id else None
    registration = rcp.register(session, planned, _patient(session, patient_id), doctor, document=document)
    return {"registration_id": str(registration.id), "session_id": session_id}


@operation("rcp_close_final_list", "POST", "/driver/rcp/sessions/{session_id}/final-list")
def rcp_close_final_list(session: Session, session_id: str, by_3c: str) -> dict[str, Any]:
    """The 3C closes the session's final list; the registering doctors are told."""
    notified = rcp.close_final_list(session, _session(session, session_id), by_3c)
    return {"session_id": session_id, "notifications": len(notified)}


@operation("rcp_record_quorum", "POST", "/driver/rcp/sessions/{session_id}/quorum")
def rcp_record_quorum(session: Session, session_id: str, present: list[str], author: str) -> dict[str, Any]:
    """Record who attended the session; the quorum follows."""
    quorum = rcp.record_quorum(session, _session(session, session_id), present, author)
    return {"session_id": session_id, "quorum": quorum}


def _session(session: Session, session_id: str):
    if not str(session_id).isdigit():
        raise NotFound(f"RCP session {session_id!r} does not exist")
    try:
        return rcp.get_session(session, int(session_id))
    except rcp.RcpError:
        raise NotFound(f"RCP session {session_id!r} does not exist") from None
