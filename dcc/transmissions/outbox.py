"""The outbox: transmissions are written in the same transaction as the status change that causes them, so a
validated document always has its jobs and a rolled-back validation has none (the worker delivers them later).

Each job's ``key`` (document, channel, recipient) is unique, so queuing twice is a no-op; its external id —
the Message-ID of an MSS mail, the XDS uniqueId of a DMP submission — is fixed here, before any attempt, so a
delivery interrupted by a crash is recognised when the worker comes back (``worker.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, identifiers
from dcc.db.models import Document, Patient, Transmission
from dcc.db.models_transmissions import DmpPatientChoice
from dcc.services import documents
from dcc.transmissions import routing
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.routing import Recipient, Route

FAULT_PEER_EDITABLE = faults.register(
    "peer_frcp_stays_editable",
    "an FRCP sent to another DCC stays editable at the source",
    breaks=["ECH.02"],
)


class TransmissionRefused(ValueError):
    """A transmission Figure 10 does not allow; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


FAULT_TYPED_ADDRESSES = faults.register(
    "recipient_address_not_from_directory",
    "the professionals' MSSanté addresses are taken as typed, not from the Annuaire Santé",
    breaks=["ANN.03"],
)


def recipients_of(document: Document) -> tuple[Recipient, ...]:
    """The professionals named in the document (``content["destinataires"]``: a list of ``{"mss": address,
    "rpps": ..., "source": "annuaire"}``), as the CDA header's informationRecipient will list them."""
    found = []
    for item in document.content.get("destinataires") or []:
        if isinstance(item, str):
            found.append(Recipient(item))
        elif isinstance(item, dict) and item.get("mss"):
            source = str(item.get("source") or "annuaire")
            if faults.active(FAULT_TYPED_ADDRESSES.name):
                source = "saisie"
            found.append(Recipient(str(item["mss"]), source, item.get("rpps")))
    return tuple(found)


def dmp_choice(session: Session, patient: Patient) -> DmpPatientChoice | None:
    return session.scalar(select(DmpPatientChoice).where(DmpPatientChoice.patient_id == patient.id))


def record_dmp_choice(
    session: Session, patient: Patient, author: str, *, opposition: bool, consent: bool = True
) -> DmpPatientChoice:
    """The patient's opposition to DMP feeding and consent to its consultation (DMP/ALIM.08, DMP/CONS.02)."""
    choice = dmp_choice(session, patient)
    before = None if choice is None else {"opposition": choice.opposition, "consent": choice.consent}
    if choice is None:
        choice = DmpPatientChoice(patient_id=patient.id, opposition=opposition, consent=consent, at=_now())
        session.add(choice)
    else:
        choice.opposition, choice.consent, choice.at = opposition, consent, _now()
    session.flush()
    audit.record(
        session,
        author,
        "patient.dmp_choice",
        "patient",
        str(patient.id),
        before,
        {"opposition": opposition, "consent": consent},
    )
    if opposition:
        fields: dict[str, Any] = {"patient_id": str(patient.id), "author": author}
        if patient.identity_status == routing.QUALIFIEE and patient.ins_matricule:
            fields["ins"] = patient.ins_matricule
        events.emit(session, "patient.dmp_opposition_recorded", **fields)
    return choice


def context_for(
    session: Session,
    document: Document,
    config: TransmissionConfig,
    professionals: Iterable[Recipient] | None = None,
    peer_dcc: Iterable[Recipient] = (),
    status: str | None = None,
) -> routing.Context:
    patient = session.get(Patient, document.patient_id)
    assert patient is not None
    choice = dmp_choice(session, patient)
    gateway = config.dpi_gateways.get(document.finess or "")
    return routing.Context(
        kind=document.kind,
        status=status or document.status,
        identity_status=patient.identity_status,
        ins=patient.ins_matricule if patient.identity_status == routing.QUALIFIEE else None,
        professionals=tuple(professionals if professionals is not None else recipients_of(document)),
        peer_dcc=tuple(peer_dcc),
        dpi_gateways=(Recipient(gateway, "configuration"),) if gateway else (),
        pdc_address=config.pdc_address,
        dmp_opposition=bool(choice and choice.opposition),
    )


def _external_id(channel: str, config: TransmissionConfig, document: Document, suffix: str | None) -> str:
    if channel == routing.DMP:
        base = identifiers.document_id(document)
        return f"{base}.{suffix}" if suffix else base
    return f"<dcc.{uuid.uuid4().hex}@{config.sender_domain}>"


def queue(
    session: Session,
    document: Document,
    route: Route,
    config: TransmissionConfig,
    *,
    trigger: str,
    trigger_kind: str,
    options: dict[str, Any] | None = None,
    key_suffix: str | None = None,
) -> Transmission:
    """One job for one route, idempotent on its key; the ``transmission.queued`` event says what the rules read."""
    key = f"{document.id}|{route.channel}|{route.recipient.lower()}" + (
        f"|{key_suffix}" if key_suffix else ""
    )
    existing = session.scalar(select(Transmission).where(Transmission.key == key))
    if existing is not None:
        return existing
    patient = session.get(Patient, document.patient_id)
    assert patient is not None
    now = _now()
    job = Transmission(
        key=key,
        document_id=document.id,
        channel=route.channel,
        recipient=route.recipient,
        format=route.format,
        trigger=trigger,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        external_id=_external_id(route.channel, config, document, key_suffix),
        finess=document.finess,
        rpps=document.author_rpps,
        created_at=now,
        document_status=document.status,
        identity_status=patient.identity_status,
        recipient_source=route.recipient_source,
        options=dict(options or {}) or None,
    )
    session.add(job)
    session.flush()
    events.emit(
        session,
        "transmission.queued",
        transmission_id=job.id,
        document_id=identifiers.document_id(document),
        set_id=identifiers.set_id(document),
        version=document.version,
        kind=document.kind,
        document_status=document.status,
        patient_id=str(document.patient_id),
        identity_status=patient.identity_status,
        channel=route.channel,
        recipient=route.recipient,
        recipient_source=route.recipient_source,
        format=route.format,
        trigger=trigger,
        trigger_kind=trigger_kind,
        external_id=job.external_id,
    )
    return job


FAULT_FRCP_SENT_BY_HAND = faults.register(
    "frcp_sent_to_professionals_by_hand_only",
    "a validated FRCP is not sent to its professionals automatically: the DCC waits for the user to send it",
    # the scenarios of TRANS.03 (continuity of care), TRANS.05 (retries), INS.08 and MSS/CDA.05 (what the mail
    # carries) wait for the automatic mail of a validated FRCP too
    breaks=["MSS/PRO.01", "TRANS.03", "TRANS.05", "INS.08", "MSS/CDA.05"],
)


def validate_and_route(
    session: Session,
    document: Document,
    author: str,
    config: TransmissionConfig | None = None,
    professionals: Iterable[Recipient] | None = None,
    peer_dcc: Iterable[Recipient] = (),
) -> list[Transmission]:
    """Validates the document and, in the same transaction, queues every transmission Figure 10 gives for a
    validated document: professionals, PDC, DMP, the patient (PPS), the DPI gateway, and the DCC an FRCP came
    from (``peer_dcc``). A refused validation raises before anything is queued."""
    config = config or TransmissionConfig.from_environment()
    if not peer_dcc and document.content.get("peer_return"):
        from dcc.transmissions.exchange import return_recipients

        peer_dcc = return_recipients(document)  # an FRCP another DCC sent goes back to it once validated
    context = context_for(session, document, config, professionals, peer_dcc, status=documents.VALIDE)
    routes = routing.route(context)
    if (
        document.kind == "FRCP"
        and any(r.target == "ps" for r in routes)
        and faults.active(FAULT_FRCP_SENT_BY_HAND.name)
    ):
        # left to the user's « envoyer » (send_to_professionals)
        routes = [r for r in routes if r.target != "ps"]
    documents.set_status(
        session, document, documents.VALIDE, author, event_fields={"recipients": len(context.professionals)}
    )
    return _queue_all(session, document, routes, config, trigger="validation", trigger_kind="automatic")


def _queue_all(
    session: Session,
    document: Document,
    routes: list[Route],
    config: TransmissionConfig,
    *,
    trigger: str,
    trigger_kind: str,
) -> list[Transmission]:
    jobs = []
    for r in routes:
        if r.channel == routing.DMP:
            events.emit(
                session, "dmp.share_requested", document_id=identifiers.document_id(document), trigger=trigger
            )
        jobs.append(queue(session, document, r, config, trigger=trigger, trigger_kind=trigger_kind))
    return jobs


def send_to_professionals(
    session: Session,
    document: Document,
    author: str,
    professionals: Iterable[Recipient],
    config: TransmissionConfig | None = None,
) -> list[Transmission]:
    """A user's explicit sending to professionals, for the statuses Figure 10 allows (an FRCP « complétée », a
    PPS en cours / complété / clôturé, any validated document)."""
    config = config or TransmissionConfig.from_environment()
    context = context_for(session, document, config, professionals)
    routes = [
        r
        for r in routing.route(context)
        if r.target == "ps" or faults.active(routing.FAULT_COMPLETE_TO_PATIENT.name)
    ]
    if not routes:
        raise TransmissionRefused(
            "not_allowed",
            f"{document.kind} « {document.status} »: Figure 10 allows no sending to professionals",
        )
    return _queue_all(session, document, routes, config, trigger="manual", trigger_kind="manual")


FAULT_VERSION_SENT_EARLY = faults.register(
    "new_version_sent_before_validation",
    "a new version of a validated document goes to its professionals as soon as it is created, before validation",
    breaks=["DOC.04"],
)


def version_created(session: Session, document: Document, author: str) -> list[Transmission]:
    """A new version stays inside the DCC until it is validated again (DOC.04): nothing is queued here; the fault
    sends it to the professionals of the previous version at once."""
    recipients = recipients_of(document)
    if not faults.active(FAULT_VERSION_SENT_EARLY.name) or not recipients:
        return []
    return send_to_professionals(session, document, author, recipients)


def send_to_peer(
    session: Session,
    frcp: Document,
    author: str,
    peer_address: str,
    config: TransmissionConfig | None = None,
) -> Transmission:
    """Sends an FRCP « complétée » to another region's DCC (2.1.4) and makes it read-only here: the other DCC
    completes and validates it, and the validated version it returns replaces this one (``exchange.py``)."""
    config = config or TransmissionConfig.from_environment()
    if frcp.kind != "FRCP" or frcp.status != documents.COMPLETE:
        raise TransmissionRefused(
            "not_complete",
            f"{frcp.kind} « {frcp.status} »: only an FRCP « complétée » is exchanged between DCC",
        )
    context = context_for(session, frcp, config, (), (Recipient(peer_address, "exchange"),))
    routes = [r for r in routing.route(context) if r.channel == routing.PEER_DCC]
    if not faults.active(FAULT_PEER_EDITABLE.name):
        before = frcp.read_only_reason
        frcp.read_only_reason = "sent_to_peer"
        audit.record(
            session,
            author,
            "document.read_only",
            "document",
            identifiers.document_id(frcp),
            {"read_only_reason": before},
            {"read_only_reason": "sent_to_peer", "peer": peer_address},
        )
    return _queue_all(session, frcp, routes, config, trigger="exchange", trigger_kind="manual")[0]


FAULT_MANUAL_SHARE_DEFERRED = faults.register(
    "manual_dmp_share_deferred",
    "the manual DMP share is booked for the nightly batch instead of being sent at once (its job, and an "
    "automatic one waiting for a retry, leave only the next night)",
    breaks=["DMP/ALIM.07"],
)


def _next_night(now: datetime) -> datetime:
    """02:00 UTC after ``now``: when a DCC with the fault runs its DMP batch."""
    night = now.replace(hour=2, minute=0, second=0, microsecond=0)
    return night if night > now else night + timedelta(days=1)


def share_to_dmp(
    session: Session, document: Document, author: str, config: TransmissionConfig | None = None
) -> Transmission:
    """The manual DMP share (2.3.4.2, « pour palier à tout problème d'alimentation »): re-arms a failed or
    waiting DMP job at once, or queues one (e.g. the identity was qualified after the validation)."""
    config = config or TransmissionConfig.from_environment()
    patient = session.get(Patient, document.patient_id)
    assert patient is not None
    context = context_for(session, document, config, ())
    routes = [r for r in routing.route(context) if r.channel == routing.DMP]
    if not routes:
        reason = "opposition" if context.dmp_opposition else "not_shareable"
        raise TransmissionRefused(
            reason,
            f"{document.kind} « {document.status} », identity « {patient.identity_status} »"
            + (", patient opposition" if context.dmp_opposition else "")
            + ": the DMP takes only a validated document with a qualified INS",
        )
    events.emit(
        session, "dmp.share_requested", document_id=identifiers.document_id(document), trigger="manual"
    )
    audit.record(
        session, author, "dmp.share_requested", "document", identifiers.document_id(document), None, {}
    )
    key = f"{document.id}|{routing.DMP}|{routes[0].recipient.lower()}"
    job = session.scalar(select(Transmission).where(Transmission.key == key))
    if job is None:
        job = queue(session, document, routes[0], config, trigger="manual", trigger_kind="manual")
    elif job.state in ("pending", "failed"):
        job.state, job.next_attempt_at, job.leased_until = "pending", _now(), None
    if job.state == "pending" and faults.active(FAULT_MANUAL_SHARE_DEFERRED.name):
        job.next_attempt_at = _next_night(_now())
    session.flush()
    return job
