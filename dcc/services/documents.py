"""FRCP and PPS lifecycle (cahier des charges 2.1.1, 2.1.2.2, 2.1.2.3, 2.1.4): statuses, versions, the one FRCP of
a PPS, traced manual entries, attachments. Every refusal raises ``DocumentRuleError`` before anything is written."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, identifiers, rgpd
from dcc.db.models import Attachment, Document, FieldEntry, Patient
from dcc.db.models_identity import IdentityInput
from dcc.services import rgpd_texts

EN_COURS, COMPLETE, VALIDE, CLOTURE = "en_cours", "complete", "valide", "cloture"
TRANSITIONS = {
    "FRCP": {(EN_COURS, COMPLETE), (COMPLETE, VALIDE)},
    "PPS": {(EN_COURS, COMPLETE), (COMPLETE, VALIDE), (VALIDE, CLOTURE)},
}
FRCP_REOPENED = faults.register(
    "frcp_reopened_after_validation",
    "a validated FRCP can go back to « en cours » (instead of a new version)",
    ["DOC.01"],
)
PPS_CLOSED_EARLY = faults.register(
    "pps_closed_before_validation", "a PPS « en cours » or « complété » can be closed", ["DOC.02"]
)
STATUS_NOT_AUDITED = faults.register(
    "status_change_not_audited", "document status changes are not written to the audit log", ["DOC.08"]
)
EDITABLE_WHEN_VALIDATED = faults.register(
    "validated_document_editable",
    "a manual entry is accepted on a validated or closed document (no new version)",
    ["DOC.03"],
)
CARE_BLOCKED_WITHOUT_QUALIFIED_IDENTITY = faults.register(
    "care_blocked_without_qualified_identity",
    "an FRCP or PPS cannot be validated while the patient's identity, typed or received at the identity desk, is "
    "not qualifiée",
    ["INS.07"],
)
PPS_FROM_UNVALIDATED = faults.register(
    "pps_from_unvalidated_frcp", "a PPS is created from an FRCP that is not validated", ["DOC.05"]
)
ONE_VALIDATED_FRCP_PER_SET = faults.register(
    "corrected_frcp_cannot_be_validated",
    "the new version correcting a validated FRCP cannot be validated: the DCC allows one validated FRCP per set",
    breaks=["DOC.09"],
)
ATTACHMENT_CHECKED_AFTER_STORING = faults.register(
    "attachment_checked_after_storing",
    "an attachment is saved with its document before its type and size are checked: a refused file stays joined",
    breaks=["BDT.04"],
)
ENTRY_WITHOUT_AUTHOR = faults.register(
    "field_entry_without_author", "a manual entry is journaled without its operator", ["DOC.07"]
)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain"}
# built once (each status change runs it): building the expression cost more than running it
_ATTACHMENTS = select(Attachment.sha256).where(Attachment.document_id == bindparam("document_id"))


class DocumentRuleError(ValueError):
    """A change the lifecycle does not allow; ``reason`` is a stable code (for events and API errors)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


def _snapshot(document: Document) -> dict[str, Any]:
    return {
        "kind": document.kind,
        "set_id": document.set_id,
        "version": document.version,
        "status": document.status,
    }


def describe(session: Session, document: Document) -> dict[str, Any]:
    """The correlation fields every document event carries (docs/trace-events.md), read from the stored state."""
    patient = session.get(Patient, document.patient_id)
    fields: dict[str, Any] = {
        "document_id": identifiers.document_id(document),
        "kind": document.kind,
        "set_id": identifiers.set_id(document),
        "version": document.version,
        "status": document.status,
        "patient_id": str(document.patient_id),
        "identity_status": patient.identity_status if patient else None,
    }
    if patient is not None and patient.identity_status == "qualifiee":
        fields["ins"] = patient.ins_matricule
    if document.frcp_id is not None:
        frcp = session.get(Document, document.frcp_id)
        fields["frcp_id"] = identifiers.document_id(frcp)
        fields["frcp_status"] = frcp.status
    if document.replaces_id is not None:
        fields["replaces"] = identifiers.document_id(session.get(Document, document.replaces_id))
    return fields


def _created(
    session: Session, document: Document, author: str, extra: dict[str, Any] | None = None
) -> Document:
    """Stores a new document (FRCP, PPS, or a new version) and audits its creation in the caller's transaction."""
    session.add(document)
    session.flush()
    events.emit(session, "document.created", **describe(session, document), author=author, **(extra or {}))
    audit.record(
        session,
        author,
        "document.created",
        "document",
        identifiers.document_id(document),
        None,
        _snapshot(document),
    )
    return document


def create_frcp(
    session: Session,
    patient: Patient,
    author: str,
    content: dict[str, Any] | None = None,
    establishment_text_1: str | None = None,
    event_fields: dict[str, Any] | None = None,
    finess: str | None = None,
) -> Document:
    """A new FRCP for a new RCP presentation (2.1.2.1): version 1 of a new set, « en cours ». ``event_fields`` go
    into ``document.created`` (data reuse adds its sources: ``latest_pps_id``, ``previous_frcp_id``, ``crgm_id``).
    ``finess``: the establishment it is produced for, whose adapted text 1 it carries (RGPD.03) unless
    ``establishment_text_1`` is given."""
    if finess is not None and not (len(finess) == 9 and finess.isdigit()):
        raise DocumentRuleError("invalid_finess", f"finess {finess!r}: 9 digits")
    document = Document(
        kind="FRCP",
        patient_id=patient.id,
        set_id=f"urn:uuid:{uuid.uuid4()}",
        version=1,
        status=EN_COURS,
        content=dict(content or {}),
        rgpd_text_1=(
            rgpd.texts(establishment_text_1)[0]
            if establishment_text_1
            else rgpd_texts.text_1(session, finess)
        ),
        created_at=_now(),
        created_by=author,
        finess=finess,
    )
    return _created(session, document, author, event_fields)


def create_pps(
    session: Session,
    frcp: Document,
    author: str,
    content: dict[str, Any] | None = None,
    event_fields: dict[str, Any] | None = None,
) -> Document:
    """A PPS is created from its validated FRCP (2.1.2.2), which stays its one FRCP for all its versions."""
    if frcp.kind != "FRCP":
        raise DocumentRuleError("not_an_frcp", f"document {frcp.id} is a {frcp.kind}, not an FRCP")
    if frcp.status != VALIDE and not faults.active(PPS_FROM_UNVALIDATED.name):
        raise DocumentRuleError(
            "frcp_non_validee", f"FRCP {frcp.id} is « {frcp.status} »: a PPS needs a validated FRCP"
        )
    document = Document(
        kind="PPS",
        patient_id=frcp.patient_id,
        set_id=f"urn:uuid:{uuid.uuid4()}",
        version=1,
        status=EN_COURS,
        frcp_id=frcp.id,
        content=dict(content or {}),
        rgpd_text_1=frcp.rgpd_text_1,
        created_at=_now(),
        created_by=author,
        finess=frcp.finess,
    )
    return _created(session, document, author, event_fields)


def _allowed(kind: str, current: str, new: str) -> bool:
    if (current, new) in TRANSITIONS[kind]:
        return True
    if kind == "FRCP" and current == VALIDE and new == EN_COURS and faults.active(FRCP_REOPENED.name):
        return True
    return kind == "PPS" and new == CLOTURE and current != CLOTURE and faults.active(PPS_CLOSED_EARLY.name)


def set_status(
    session: Session,
    document: Document,
    new: str,
    author: str,
    event_fields: dict[str, Any] | None = None,
) -> Document:
    """One lifecycle step, audited; ``event_fields`` adds fields to ``document.status_changed`` (e.g. the number of
    ``recipients`` the transmissions area routes the document to, which MSS/PRO.01 reads)."""
    if not _allowed(document.kind, document.status, new):
        allowed = sorted(n for c, n in TRANSITIONS[document.kind] if c == document.status) or ["none"]
        raise DocumentRuleError(
            "transition_refused",
            f"{document.kind} {document.id}: « {document.status} » → "
            f"« {new} » is not allowed (from « {document.status} »: {', '.join(allowed)})",
        )
    if new == VALIDE and faults.active(CARE_BLOCKED_WITHOUT_QUALIFIED_IDENTITY.name):
        patient = session.get(Patient, document.patient_id)
        desk = (  # an identity that went through the rapprochement (typed or received), not a typed INS alone
            select(IdentityInput.id)
            .where(IdentityInput.patient_id == document.patient_id, IdentityInput.case.is_not(None))
            .limit(1)
        )
        if (
            patient is not None
            and patient.identity_status != "qualifiee"
            and session.scalar(desk) is not None
        ):
            raise DocumentRuleError(
                "identity_not_qualified", f"{document.kind} {document.id}: the identity is not qualifiée"
            )
    if (
        new == VALIDE
        and document.kind == "FRCP"
        and document.version > 1
        and faults.active(ONE_VALIDATED_FRCP_PER_SET.name)
        and session.scalar(
            select(Document.id)
            .where(Document.set_id == document.set_id, Document.id != document.id, Document.status == VALIDE)
            .limit(1)
        )
    ):
        raise DocumentRuleError(
            "already_validated", f"FRCP {document.id}: its set already has a validated version"
        )
    before = _snapshot(document)
    document.status = new
    attachments = session.scalars(_ATTACHMENTS, {"document_id": document.id}).all()
    events.emit(
        session,
        "document.status_changed",
        **describe(session, document),
        author=author,
        attachments=len(attachments),
        **{"from": before["status"], "to": new},
        **(event_fields or {}),
    )
    if not faults.active(STATUS_NOT_AUDITED.name):
        audit.record(
            session,
            author,
            "document.status_changed",
            "document",
            identifiers.document_id(document),
            before,
            _snapshot(document),
        )
    session.flush()
    return document


# Characters XML 1.0 cannot carry (a CDA could never hold the value) and, for NUL, that PostgreSQL refuses in text.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def enter(
    session: Session,
    document: Document,
    field: str,
    value: str,
    author: str,
    *,
    bdt_entry_id: str | None = None,
) -> FieldEntry:
    """A manual entry, traced with its operator; refused on a validated, closed or read-only document.

    ``bdt_entry_id``: the therapeutic data bank entry the value was picked from (BDT.01, see
    ``dcc.services.bdt.enter_from_bank``); the event and the audit carry it only when given."""
    if document.status in (VALIDE, CLOTURE) and not faults.active(EDITABLE_WHEN_VALIDATED.name):
        raise DocumentRuleError(
            "validated", f"{document.kind} {document.id} is « {document.status} »: changes need a new version"
        )
    if document.read_only_reason:
        raise DocumentRuleError(
            document.read_only_reason,
            f"{document.kind} {document.id} is read-only ({document.read_only_reason})",
        )
    if not author:
        raise DocumentRuleError("no_author", "a manual entry needs its operator")
    bad = _NOT_IN_XML.search(value) if isinstance(value, str) else None
    if bad is not None:
        raise DocumentRuleError(
            "invalid_value",
            f"field {field!r}: character U+{ord(bad.group()):04X} at position {bad.start()} cannot be kept "
            "(a CDA document, XML 1.0, cannot carry it)",
        )
    before = {field: document.content.get(field)}
    document.content = {**document.content, field: value}
    entry = FieldEntry(document_id=document.id, field=field, value=value, author=author, at=_now())
    session.add(entry)
    source = {"bdt_entry_id": bdt_entry_id} if bdt_entry_id is not None else {}
    entered = {**describe(session, document), "field": field, "author": author, **source}
    if faults.active(ENTRY_WITHOUT_AUTHOR.name):
        del entered["author"]
    events.emit(session, "document.field_entered", **entered)
    _content_modified(session, document, "field_entered", author, field=field)
    audit.record(
        session,
        author,
        "document.field_entered",
        "document",
        identifiers.document_id(document),
        before,
        {field: value, **source},
    )
    session.flush()
    return entry


def _content_modified(session: Session, document: Document, cause: str, author: str, **more: Any) -> None:
    """What DOC.03 and ECH.02 watch: any change of a document's content, with its cause."""
    events.emit(
        session,
        "document.content_modified",
        document_id=identifiers.document_id(document),
        kind=document.kind,
        set_id=identifiers.set_id(document),
        version=document.version,
        status=document.status,
        cause=cause,
        author=author,
        **more,
    )


def new_version(
    session: Session, document: Document, author: str, event_fields: dict[str, Any] | None = None
) -> Document:
    """The only way to change a validated document (2.1.2.3, 2.5.3): same set, version + 1, « en cours », tied to
    the version it replaces (and, for a PPS, to the same FRCP)."""
    if document.status not in (VALIDE, CLOTURE):
        raise DocumentRuleError(
            "not_validated", f"{document.kind} {document.id} is « {document.status} »: edit it"
        )
    latest = session.scalar(
        select(Document.version)
        .where(Document.set_id == document.set_id)
        .order_by(Document.version.desc())
        .limit(1)
    )
    if latest != document.version:
        raise DocumentRuleError("not_latest", f"version {document.version} is not the latest ({latest})")
    successor = Document(
        kind=document.kind,
        patient_id=document.patient_id,
        set_id=document.set_id,
        version=document.version + 1,
        status=EN_COURS,
        frcp_id=document.frcp_id,
        replaces_id=document.id,
        content=dict(document.content),
        rgpd_text_1=document.rgpd_text_1,
        created_at=_now(),
        created_by=author,
        finess=document.finess,
    )
    return _created(session, successor, author, event_fields)


def add_attachment(
    session: Session,
    document: Document,
    title: str,
    mime_type: str,
    content: bytes,
    author: str,
    max_bytes: int = MAX_ATTACHMENT_BYTES,
) -> Attachment:
    """Effets secondaires or other documents joined to an FRCP or PPS (2.1.5.1), within type and size limits."""
    if faults.active(ATTACHMENT_CHECKED_AFTER_STORING.name) and document.status not in (VALIDE, CLOTURE):
        # the upload is saved (and committed) first, then checked: a refusal no longer takes it back
        stored = _store_attachment(session, document, title, mime_type, content, author)
        session.commit()
        _check_attachment(title, mime_type, content, max_bytes)
        return stored
    _check_attachment(title, mime_type, content, max_bytes)
    if document.status in (VALIDE, CLOTURE):
        raise DocumentRuleError("validated", f"{document.kind} {document.id} is « {document.status} »")
    return _store_attachment(session, document, title, mime_type, content, author)


def _check_attachment(title: str, mime_type: str, content: bytes, max_bytes: int) -> None:
    if mime_type not in ATTACHMENT_TYPES:
        raise DocumentRuleError(
            "type_refused",
            f"{title!r}: type {mime_type} is not accepted ({', '.join(sorted(ATTACHMENT_TYPES))})",
        )
    if len(content) > max_bytes:
        raise DocumentRuleError("too_large", f"{title!r}: {len(content)} bytes, more than {max_bytes}")


def _store_attachment(
    session: Session, document: Document, title: str, mime_type: str, content: bytes, author: str
) -> Attachment:
    attachment = Attachment(
        document_id=document.id,
        title=title,
        mime_type=mime_type,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        added_by=author,
        at=_now(),
    )
    session.add(attachment)
    session.flush()
    events.emit(
        session,
        "attachment.added",
        document_id=identifiers.document_id(document),
        title=title,
        mime_type=mime_type,
        sha256=attachment.sha256,
        size=len(content),
    )
    _content_modified(session, document, "attachment_added", author, sha256=attachment.sha256)
    audit.record(
        session,
        author,
        "attachment.added",
        "document",
        identifiers.document_id(document),
        None,
        {"title": title, "sha256": attachment.sha256, "size": len(content)},
    )
    return attachment
