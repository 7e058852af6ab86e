"""Document commands as units of work: each one commits its change, or — when the lifecycle refuses — rolls the
change back and records the refusal in a transaction of its own, then raises the refusal again.

Why refusals are journaled: the rules judge what the DCC refused as much as what it did (DOC.01 expects a
« validé → en cours » to be refused, DOC.05 starts from a refused PPS, ECH.02 from a refused modification). The
refused change itself must leave nothing, so the event cannot share its transaction. The HTTP routes and the
harness's in-process target both call these functions, so both produce the same journal.

Unlike ``dcc.services.documents``, these functions own the transaction of the ``Session`` they are given (which
must hold no pending work): they commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session

from dcc import events, faults, identifiers
from dcc.cda_input.crgm import CdaInputError
from dcc.db.models import Attachment, Document, FieldEntry, Patient
from dcc.db.models_reuse import ExternalDocument, PrefillProposal
from dcc.services import documents, reuse
from dcc.services.documents import DocumentRuleError, describe

T = TypeVar("T")

REFUSAL_NOT_RECORDED = faults.register(
    "transition_refusal_not_recorded",
    "a refused status change of a document leaves no refusal in the event journal",
    breaks=["DOC.01", "DOC.02"],
)


class NotFound(LookupError):
    """The patient, document or proposal named by the caller does not exist (HTTP 404)."""


def _get(session: Session, model: type[T], key: int, label: str) -> T:
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"no {label} {key}")
    return found


def _run(
    session: Session, work: Callable[[], T], refusal: Callable[[Exception], tuple[str, dict[str, Any]]]
) -> T:
    """``work`` then commit; on a refusal, rollback, journal ``refusal(error)`` (type, fields) and commit that
    alone, then raise the refusal again."""
    try:
        result = work()
        session.commit()
        return result
    except (DocumentRuleError, CdaInputError) as error:
        session.rollback()
        event_type, fields = refusal(error)
        if journal_refusal(session, event_type, {**fields, "reason": error.reason}):
            session.commit()
        raise


def journal_refusal(session: Session, event_type: str, data: dict[str, Any]) -> bool:
    """Records a refusal event in ``session`` (the caller commits it) and says whether it did: with the fault
    ``transition_refusal_not_recorded`` a refused status change is not journaled. The document API and the
    test-driver (``dcc.driver``) both journal their refusals here, so the fault hides them from both alike."""
    if event_type == "document.transition_refused" and faults.active(REFUSAL_NOT_RECORDED.name):
        return False
    events.emit(session, event_type, **data)
    return True


def _modification_refused(base: dict[str, Any], operation: str, author: str, **more: Any):
    def build(error: Exception) -> tuple[str, dict[str, Any]]:
        return "document.modification_refused", {
            **base,
            "operation": operation,
            "author": author,
            "message": str(error),
            **more,
        }

    return build


def create_frcp(
    session: Session,
    patient_id: int,
    author: str,
    content: dict[str, Any] | None = None,
    establishment_text_1: str | None = None,
    crgm_id: int | None = None,
) -> reuse.Proposal:
    patient = _get(session, Patient, patient_id, "patient")
    crgm = _get(session, ExternalDocument, crgm_id, "CR-GM") if crgm_id is not None else None
    base = {"kind": "FRCP", "patient_id": str(patient_id), "author": author}
    return _run(
        session,
        lambda: reuse.new_frcp(session, patient, author, content, establishment_text_1, crgm),
        lambda error: ("document.create_refused", {**base, "message": str(error)}),
    )


def create_pps(
    session: Session, frcp_id: int, author: str, content: dict[str, Any] | None = None
) -> reuse.Proposal:
    frcp = _get(session, Document, frcp_id, "document")
    base = {
        "kind": "PPS",
        "patient_id": str(frcp.patient_id),
        "frcp_id": identifiers.document_id(frcp),
        "frcp_status": frcp.status,
        "author": author,
    }
    return _run(
        session,
        lambda: reuse.new_pps(session, frcp, author, content),
        lambda error: ("document.create_refused", {**base, "message": str(error)}),
    )


def change_status(session: Session, document_id: int, to: str, author: str) -> Document:
    document = _get(session, Document, document_id, "document")
    base = describe(session, document)
    return _run(
        session,
        lambda: documents.set_status(session, document, to, author),
        lambda error: (
            "document.transition_refused",
            {**base, "from": base["status"], "to": to, "author": author, "message": str(error)},
        ),
    )


def enter_fields(session: Session, document_id: int, values: dict[str, str], author: str) -> list[FieldEntry]:
    """Several manual entries in one unit of work: all are written or none."""
    document = _get(session, Document, document_id, "document")
    base = describe(session, document)
    return _run(
        session,
        lambda: [documents.enter(session, document, name, value, author) for name, value in values.items()],
        _modification_refused(base, "enter", author, fields=sorted(values)),
    )


def new_version(session: Session, document_id: int, author: str) -> reuse.Proposal:
    document = _get(session, Document, document_id, "document")
    base = describe(session, document)
    return _run(
        session,
        lambda: reuse.new_version(session, document, author),
        _modification_refused(base, "new_version", author),
    )


def add_attachment(
    session: Session,
    document_id: int,
    title: str,
    mime_type: str,
    content: bytes | None,
    author: str,
    size: int | None = None,
) -> Attachment:
    """Type and size refusals are journaled as ``attachment.rejected`` (BDT.04), others as a refused
    modification. ``content`` None means the caller stopped reading a body of ``size`` bytes over the limit."""
    document = _get(session, Document, document_id, "document")
    base = describe(session, document)
    sha256 = hashlib.sha256(content).hexdigest() if content is not None else None
    length = len(content) if content is not None else size

    def refusal(error: Exception) -> tuple[str, dict[str, Any]]:
        if getattr(error, "reason", None) in ("type_refused", "too_large"):
            return "attachment.rejected", {
                "document_id": base["document_id"],
                "kind": base["kind"],
                "title": title,
                "mime_type": mime_type,
                "size": length,
                "sha256": sha256,
                "author": author,
                "message": str(error),
            }
        return _modification_refused(base, "attachment", author, sha256=sha256)(error)

    def work() -> Attachment:
        if content is None:
            raise DocumentRuleError(
                "too_large", f"{title!r}: more than {documents.MAX_ATTACHMENT_BYTES} bytes"
            )
        return documents.add_attachment(session, document, title, mime_type, content, author)

    return _run(session, work, refusal)


def apply_prefill(
    session: Session, proposal_id: int, keep: Iterable[str] | Literal["all"] | None, author: str
) -> list[FieldEntry]:
    row = _get(session, PrefillProposal, proposal_id, "prefill proposal")
    document = session.get(Document, row.document_id)
    base = describe(session, document)
    proposal = reuse.load(session, proposal_id)
    return _run(
        session,
        lambda: reuse.apply(session, proposal, keep, author),
        _modification_refused(base, "apply_prefill", author, proposal_id=proposal_id),
    )


def integrate_crgm(
    session: Session, patient_id: int, data: bytes, author: str, source: str = "upload"
) -> ExternalDocument:
    patient = _get(session, Patient, patient_id, "patient")

    def refusal(error: Exception) -> tuple[str, dict[str, Any]]:
        return "document.integration_refused", {
            "kind": "CR-GM",
            "patient_id": str(patient_id),
            "channel": source,
            "xpath": getattr(error, "xpath", None),
            "author": author,
            "message": str(error),
        }

    return _run(session, lambda: reuse.integrate_crgm(session, patient, data, author, source), refusal)
