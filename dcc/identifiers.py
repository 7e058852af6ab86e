"""Identifiers the DCC writes in its CDA documents and its events, in one place so that the CDA ``id``, the event
``document_id`` and what the simulators read back from the CDA are always the same string (``root^extension``)."""

from __future__ import annotations

from dcc.db.models import Document
from dcc.settings import dcc_oid


def document_root() -> str:
    """Root of ClinicalDocument/id: one document (a version) of this DCC."""
    return f"{dcc_oid()}.1"


def document_id(document: Document) -> str:
    return f"{document_root()}^{document.id}"


def set_id(document: Document) -> str:
    """The set (all versions of one FRCP or PPS) as the CDA setId root: the UUID without its ``urn:uuid:``, in
    upper case as HL7 V3 writes a UUID in an II root (structuration minimale flags a lower-case one)."""
    return document.set_id.removeprefix("urn:uuid:").upper()
