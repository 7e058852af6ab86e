"""Test-driver operations of the transmissions (2.1.1.2, 2.1.4, 2.3.3–2.3.5): recipients, the outbox, the DMP."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dcc import identifiers
from dcc.db.models import Transmission, TransmissionAttempt
from dcc.driver import Driver, operation
from dcc.services import documents
from dcc.transmissions import outbox

MAX_ROUNDS = 50  # bounded: a run of the outbox never loops for ever, even on a DCC that keeps failing


@operation("set_recipients", "POST", "/driver/documents/{document_id}/recipients")
def set_recipients(
    session: Session, document_id: str, recipients: list[dict[str, Any]], author: str
) -> dict[str, Any]:
    """Name the professionals a document is addressed to (``{mss, rpps, source}``; source ``annuaire`` when the
    address comes from the Annuaire Santé directory)."""
    document = Driver._document(session, document_id)
    for index, item in enumerate(recipients):
        if not isinstance(item, dict) or not str(item.get("mss") or "").strip():
            raise documents.DocumentRuleError(
                "invalid_recipient", f"recipients[{index}]: an MSSanté address (mss) is required"
            )
    # traced as one manual entry (its operator, the JSON it typed), kept as a list for the outbox to read
    documents.enter(session, document, "destinataires", json.dumps(recipients, ensure_ascii=False), author)
    document.content = {**document.content, "destinataires": recipients}
    return documents.describe(session, document)


@operation("run_outbox", "POST", "/driver/outbox/runs", transactional=False)
def run_outbox(sessions: sessionmaker[Session], wait_s: float = 0.0) -> dict[str, Any]:
    """Deliver what is due now (the test instance's way of saying « process your outbox »), retries included
    while their backoff is short; ``wait_s`` bounds how long to keep retrying."""
    from dcc.transmissions.worker import build_worker

    worker = build_worker(sessions)
    handled, deadline = 0, time.monotonic() + max(0.0, wait_s)
    for _ in range(MAX_ROUNDS):
        done = worker.run_once()
        handled += done
        if done == 0:
            if time.monotonic() >= deadline or not _pending(sessions):
                break
            time.sleep(0.05)
    with sessions() as session:
        states = session.execute(select(Transmission.state)).scalars().all()
    return {
        "handled": handled,
        "pending": states.count("pending"),
        "sent": states.count("sent"),
        "failed": states.count("failed"),
    }


def _pending(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return (
            session.scalar(select(Transmission.id).where(Transmission.state == "pending").limit(1))
            is not None
        )


@operation("send_to_professionals", "POST", "/driver/documents/{document_id}/sendings")
def send_to_professionals(session: Session, document_id: str, author: str) -> dict[str, Any]:
    """Send a document to the professionals it names (the statuses Figure 10 allows)."""
    document = Driver._document(session, document_id)
    jobs = outbox.send_to_professionals(session, document, author, outbox.recipients_of(document))
    return {"transmissions": [j.id for j in jobs]}


@operation("send_to_peer", "POST", "/driver/documents/{document_id}/exchanges")
def send_to_peer(session: Session, document_id: str, peer_address: str, author: str) -> dict[str, Any]:
    """Send a completed FRCP to another region's DCC (its BAL applicative); the FRCP becomes read-only here."""
    job = outbox.send_to_peer(session, Driver._document(session, document_id), author, peer_address)
    return {"transmission": job.id}


@operation("share_to_dmp", "POST", "/driver/documents/{document_id}/dmp-shares")
def share_to_dmp(session: Session, document_id: str, author: str) -> dict[str, Any]:
    """Share a validated document to the DMP by hand (2.3.4.2)."""
    job = outbox.share_to_dmp(session, Driver._document(session, document_id), author)
    return {"transmission": job.id}


@operation("record_dmp_choice", "POST", "/driver/patients/{patient_id}/dmp-choice")
def record_dmp_choice(
    session: Session, patient_id: str, author: str, opposition: bool, consent: bool = True
) -> dict[str, Any]:
    """The patient's opposition to DMP feeding and consent to its consultation."""
    outbox.record_dmp_choice(
        session, Driver._patient(session, patient_id), author, opposition=opposition, consent=consent
    )
    return {"patient_id": patient_id, "opposition": opposition, "consent": consent}


@operation("dmp_consult", "POST", "/driver/patients/{patient_id}/dmp-consultations")
def dmp_consult(session: Session, patient_id: str, author: str) -> dict[str, Any]:
    """Consult the patient's DMP before creating or updating an FRCP or PPS (2.3.4.1)."""
    from dcc.transmissions.config import TransmissionConfig
    from dcc.transmissions.dmp import DmpClient, consult

    config = TransmissionConfig.from_environment()
    client = (
        DmpClient(config.dmp_url, config.dmp_token or "", config.http_timeout_s) if config.dmp_url else None
    )
    found = consult(session, Driver._patient(session, patient_id), client, author)
    return {
        "documents": [{"unique_id": d.unique_id, "type_code": d.type_code, "status": d.status} for d in found]
    }


@operation("list_transmissions", "GET", "/driver/documents/{document_id}/transmissions")
def list_transmissions(session: Session, document_id: str) -> dict[str, Any]:
    """A document's transmissions and each attempt (what the regional dashboard counts)."""
    document = Driver._document(session, document_id)
    jobs = session.scalars(
        select(Transmission).where(Transmission.document_id == document.id).order_by(Transmission.id)
    )
    out = []
    for job in jobs:
        attempts = session.scalars(
            select(TransmissionAttempt)
            .where(TransmissionAttempt.transmission_id == job.id)
            .order_by(TransmissionAttempt.id)
        )
        out.append(
            {
                "transmission_id": str(job.id),
                "channel": job.channel,
                "recipient": job.recipient,
                "format": job.format,
                "state": job.state,
                "last_error": job.last_error,  # an error acknowledgement (MDN 90x) shows here (MSS/PRO.02)
                "external_id": job.external_id,
                "attempts": [{"attempt": a.attempt, "result": a.result, "error": a.error} for a in attempts],
            }
        )
    return {"document_id": identifiers.document_id(document), "transmissions": out}


@operation("receive_mail", "POST", "/driver/mailbox/messages", transactional=False)
def receive_mail(sessions: sessionmaker[Session], raw_base64: str, sender: str = "") -> dict[str, Any]:
    """A mail the MSSanté operator delivers to this DCC's BAL applicative (what the inbound SMTP does in
    production): an acknowledgement (DSN, MDN, error MDN) is recorded against its transmission, an FRCP from
    another DCC goes to the exchange. Answers the SMTP reply the inbound server would give."""
    import base64
    import binascii

    from dcc.transmissions.exchange import receive_document
    from dcc.transmissions.inbound import handle_mail

    try:
        raw = base64.b64decode(raw_base64, validate=True)
    except (binascii.Error, ValueError):
        raise documents.DocumentRuleError("invalid_mail", "raw_base64: not base64") from None
    return {"reply": handle_mail(sessions, raw, sender, receive_document)}
