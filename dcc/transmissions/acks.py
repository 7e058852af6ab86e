"""Acknowledgements received for the mails this DCC sent (MSS/PRO.02): delivery status notifications (DSN, RFC
3464) and disposition notifications (MDN, RFC 8098), including error MDNs (``[KO Intégration système !][code]``,
codes 900–906). Each one is stored against its transmission (found by the original Message-ID) and reported as
``transmission.ack_recorded``; an error MDN also sets the transmission's ``last_error``, which the follow-up of
sendings shows. The mail is untrusted input: anything unreadable is reported as :class:`AckError` naming the part.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import events, identifiers
from dcc.db.models import Document, Transmission
from dcc.db.models_transmissions import TransmissionAck

MAX_ACK_BYTES = 1024 * 1024
_CODE = re.compile(r"\[KO Int[ée]gration syst[èe]me !\]\[(\d{3})\]")


class AckError(ValueError):
    pass


@dataclass(frozen=True)
class Ack:
    kind: str  # dsn, mdn
    message_id: str  # of the acknowledged message
    status: str  # delivered, failed, delayed, processed, error
    code: str | None
    detail: str | None
    recipient: str | None


def _fields(part: Message) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status or message/disposition-notification part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses those bodies as a list of header blocks
        return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
    text = (
        payload
        if isinstance(payload, str)
        else (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    )
    blocks, current = [], {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        name, _, value = line.partition(":")
        current[name.strip().lower()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def parse_ack(raw: bytes) -> list[Ack]:
    """The acknowledgements one mail carries (one per recipient for a DSN); [] when it is not a report."""
    if len(raw) > MAX_ACK_BYTES:
        raise AckError(f"acknowledgement larger than {MAX_ACK_BYTES} bytes")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as error:  # hostile input: the email package raises many types
        raise AckError(f"not parseable ({type(error).__name__})") from None
    if message.get_content_type() != "multipart/report":
        return []
    report_type = (message.get_param("report-type") or "").lower()
    original = str(message.get("In-Reply-To") or "").strip()
    subject = str(message.get("Subject") or "")
    acks: list[Ack] = []
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers" and not original:
            headers = email.message_from_string(part.get_content() if isinstance(part, EmailMessage) else "")
            original = str(headers.get("Message-ID") or "").strip()
        if report_type == "delivery-status" and ctype == "message/delivery-status":
            for block in _fields(part)[1:] or _fields(part):
                action = block.get("action", "").lower()
                if not action:
                    continue
                status = {"delivered": "delivered", "relayed": "delivered", "expanded": "delivered"}.get(
                    action, "delayed" if action == "delayed" else "failed"
                )
                acks.append(
                    Ack(
                        "dsn",
                        "",
                        status,
                        block.get("status"),
                        block.get("diagnostic-code"),
                        block.get("final-recipient", "").partition(";")[2].strip() or None,
                    )
                )
        if report_type == "disposition-notification" and ctype == "message/disposition-notification":
            block = {k: v for b in _fields(part) for k, v in b.items()}
            disposition = block.get("disposition", "").lower()
            error = "error" in disposition.partition(";")[2] or disposition.endswith("/error")
            code_match = _CODE.search(subject) or re.match(r"\s*(\d{3})\b", block.get("error", ""))
            original = block.get("original-message-id", original).strip()
            acks.append(
                Ack(
                    "mdn",
                    "",
                    "error" if error else "processed",
                    code_match.group(1) if code_match else None,
                    block.get("error") or None,
                    block.get("final-recipient", "").partition(";")[2].strip() or None,
                )
            )
    if not original and acks:
        raise AckError("report without the original Message-ID (In-Reply-To, Original-Message-ID)")
    return [Ack(a.kind, original.strip(), a.status, a.code, a.detail, a.recipient) for a in acks]


def record(session: Session, raw: bytes) -> list[TransmissionAck]:
    """Stores the acknowledgements of one mail and reports each; unknown Message-IDs are kept too (unmatched)."""
    stored = []
    for ack in parse_ack(raw):
        job = session.scalar(select(Transmission).where(Transmission.external_id == ack.message_id))
        row = TransmissionAck(
            transmission_id=job.id if job else None,
            message_id=ack.message_id,
            kind=ack.kind,
            status=ack.status,
            code=ack.code,
            detail=ack.detail,
            recipient=ack.recipient,
            at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        fields = {
            "message_id": ack.message_id,
            "kind": ack.kind,
            "status": ack.status,
            "code": ack.code,
            "recipient": ack.recipient,
            "transmission_id": job.id if job else None,
        }
        if job is not None:
            document = session.get(Document, job.document_id)
            fields.update(channel=job.channel, document_id=identifiers.document_id(document))
            if ack.status in ("error", "failed"):
                job.last_error = (
                    f"{ack.kind.upper()} {ack.status} {ack.code or ''}: {ack.detail or ''}".strip()
                )
        events.emit(session, "transmission.ack_recorded", **fields)
        stored.append(row)
    return stored


def acknowledged(session: Session, message_id: str) -> bool:
    """True when a delivery or processing acknowledgement came back for this Message-ID (delivered, then)."""
    return (
        session.scalar(
            select(TransmissionAck.id)
            .where(TransmissionAck.message_id == message_id)
            .where(TransmissionAck.status.in_(("delivered", "processed", "error")))
            .limit(1)
        )
        is not None
    )
