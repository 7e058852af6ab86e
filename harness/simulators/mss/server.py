"""The MSSanté simulator: the receiving MTA of the ``*.mssante.fr`` trust space, an SMTP server (aiosmtpd).

Every received mail becomes an ``mss.message_received`` event with the ``.eml`` and the ``IHE_XDM.zip`` as
evidence; every acknowledgement (DSN, MDN) an ``mss.ack_sent`` event with its ``.eml``. Acknowledgements go to
``return_smtp`` (``host:port``, e.g. the DCC's inbound SMTP) when configured, else into :attr:`outbox`.
Fault injection applies to the DATA command (faults with ``operation`` ``None`` or ``"DATA"``):
refuse → 554, error_5xx → 451 (transient), timeout/slow → reply delayed by ``delay_s`` (bounded to 30 s),
malformed → a garbled reply line, drop → the connection is closed without a reply.
"""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from harness.simulators.base import Simulator
from harness.simulators.faults import FaultMode
from harness.simulators.mss.acks import build_dsn, build_mdn
from harness.simulators.mss.mailboxes import DEFAULT_PDC, AddressRefused, MailboxType, classify
from harness.simulators.mss.message import Analysis, MessageRefused, analyse

SOURCE = "mss"
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
MAX_FAULT_DELAY_S = 30.0
OPTIONS = frozenset(
    {
        "mailboxes",
        "pdc_address",
        "strict_mailboxes",
        "return_smtp",
        "authorised_senders",
        "known_patients",
        "always_dsn",
    }
)


@dataclass(frozen=True)
class Delivered:
    """One mail as a mailbox received it."""

    recipient: str
    mailbox_type: MailboxType
    sender: str
    analysis: Analysis
    artifacts: tuple[str, ...]


Listener = Callable[[Delivered], None]


_DSN_PARAMS = {"MAIL": ("RET=", "ENVID="), "RCPT": ("NOTIFY=", "ORCPT=")}


class _Smtp(SMTP):
    """aiosmtpd answers 555 to any MAIL/RCPT parameter it does not know, but a DCC asking for delivery
    notifications sends the RFC 3461 ones (RET, ENVID, NOTIFY, ORCPT): they are taken out and kept on the
    envelope, and ``DSN`` is advertised in the EHLO answer."""

    def _strip(self, verb: str, arg: str) -> tuple[str, list[str]]:
        words = arg.split(" ")
        kept = [w for w in words if not w.upper().startswith(_DSN_PARAMS[verb])]
        return " ".join(kept), [w.upper() for w in words if w not in kept]

    async def smtp_MAIL(self, arg: str) -> None:
        cleaned, dsn = self._strip("MAIL", arg or "")
        await super().smtp_MAIL(cleaned)
        self.envelope.dsn_mail = dsn  # type: ignore[attr-defined]

    async def smtp_RCPT(self, arg: str) -> None:
        cleaned, dsn = self._strip("RCPT", arg or "")
        self.envelope.dsn_rcpt = [*getattr(self.envelope, "dsn_rcpt", []), *dsn]  # type: ignore[attr-defined]
        await super().smtp_RCPT(cleaned)


class _Controller(Controller):
    """aiosmtpd's Controller connects to ``self.port`` to wake the server up; with port 0 (a free port, as tests
    use) it must first learn the port the OS chose."""

    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        if self.server is not None and self.server.sockets:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _ack_request(message: Any) -> dict[str, str]:
    value = message.get("Disposition-Notification-To")
    return {"Disposition-Notification-To": str(value)} if value else {}


class _Handler:
    def __init__(self, simulator: MssSimulator) -> None:
        self.sim = simulator

    async def _fault(self, server: SMTP, operation: str) -> str | None:
        fault = self.sim.faults.take(operation) if self.sim.faults is not None else None
        if fault is None:
            return None
        mode = FaultMode(fault.mode)
        self.sim.record_fault(operation, mode)
        if mode is FaultMode.REFUSE:
            return "554 5.7.1 transaction refused (injected fault)"
        if mode is FaultMode.ERROR_5XX:
            return "451 4.3.0 temporary failure (injected fault)"
        if mode in (FaultMode.TIMEOUT, FaultMode.SLOW):
            default = 10.0 if mode is FaultMode.TIMEOUT else 1.0
            await asyncio.sleep(min(fault.delay_s or default, MAX_FAULT_DELAY_S))
            return None
        if mode is FaultMode.MALFORMED:
            return "2x0 ~~garbled reply~~"
        if mode is FaultMode.DROP:
            if server.transport is not None:
                server.transport.abort()
            return "421 4.4.2 connection dropped (injected fault)"  # never reaches the client
        return None

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            kind = classify(address, self.sim.known_mailboxes, self.sim.pdc_address, self.sim.strict)
        except AddressRefused as refused:
            return refused.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        types = getattr(envelope, "mss_types", None)
        if types is None:
            types = {}
            envelope.mss_types = types  # type: ignore[attr-defined]  # lives and dies with the transaction
        types[address.lower()] = kind
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self._fault(server, "DATA")
        if reply is not None:
            return reply
        raw = envelope.original_content or (
            envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.sim.receive, raw, envelope)


class MssSimulator(Simulator):
    """Options: ``mailboxes`` ({address: PER|ORG|APP|CAB}), ``pdc_address``, ``strict_mailboxes`` (refuse
    unknown addresses), ``return_smtp`` (``host:port``), ``authorised_senders``, ``known_patients``,
    ``always_dsn`` (default True: a success DSN for every delivery, as the MSS operators' DCC integrations expect;
    False: only when RCPT asks ``NOTIFY=SUCCESS``)."""

    name = "mss"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        unknown = set(options) - OPTIONS
        if unknown:
            raise ValueError(
                f"mss: unknown option(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(OPTIONS))})"
            )
        super().__init__(evidence=evidence, faults=faults, host=host, port=port, **options)
        self.known_mailboxes = {
            k.lower(): MailboxType(v) for k, v in dict(options.get("mailboxes") or {}).items()
        }
        self.pdc_address = str(options.get("pdc_address") or DEFAULT_PDC).lower()
        self.strict = bool(options.get("strict_mailboxes", False))
        self.return_smtp: str | None = options.get("return_smtp")
        senders = options.get("authorised_senders")
        self.authorised_senders = frozenset(s.lower() for s in senders) if senders else None
        patients = options.get("known_patients")
        self.known_patients = frozenset(patients) if patients else None
        self.always_dsn = bool(options.get("always_dsn", True))
        self.mailboxes: dict[str, list[Delivered]] = {}
        self.outbox: list[EmailMessage] = []
        self._listeners: dict[str, list[Listener]] = {}
        self._seen_ids: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> MssSimulator:
        if self._controller is not None:
            return self
        self._controller = _Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port or 0,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            ready_timeout=10.0,
            server_hostname="mss-simulator",
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def base_url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    # -- mailboxes -------------------------------------------------------------------------------------------
    def add_mailbox(
        self, address: str, kind: MailboxType | str = MailboxType.APP, listener: Listener | None = None
    ) -> None:
        """Registers a mailbox; a listener (peer DCC, hospital record) is called for each mail it receives."""
        with self._lock:
            self.known_mailboxes[address.lower()] = MailboxType(kind)
            if listener is not None:
                self._listeners.setdefault(address.lower(), []).append(listener)

    def mailbox(self, address: str) -> list[Delivered]:
        with self._lock:
            return list(self.mailboxes.get(address.lower(), []))

    def record_fault(self, operation: str, mode: FaultMode) -> None:
        self.evidence.emit(SOURCE, "mss.fault_injected", {"operation": operation, "mode": str(mode)})

    # -- receiving -------------------------------------------------------------------------------------------
    def deliver(self, raw: bytes, sender: str, recipients: list[str]) -> str:
        """In-process delivery (no socket): the same checks, evidence, acknowledgements and listeners as an SMTP
        transaction, returning the reply the server would give (the first refused recipient's, if any)."""
        envelope = Envelope()
        envelope.mail_from = sender
        types: dict[str, MailboxType] = {}
        for address in recipients:
            try:
                types[address.lower()] = classify(
                    address, self.known_mailboxes, self.pdc_address, self.strict
                )
            except AddressRefused as refused:
                return refused.reply
            envelope.rcpt_tos.append(address)
        envelope.mss_types = types  # type: ignore[attr-defined]
        return self.receive(raw, envelope)

    def receive(self, raw: bytes, envelope: Envelope) -> str:
        """Runs in a worker thread: analyse, store the evidence, deliver, acknowledge. Returns the SMTP reply."""
        recipients = list(envelope.rcpt_tos)
        known = getattr(envelope, "mss_types", {})
        types = [known.get(r.lower(), MailboxType.PER) for r in recipients]
        sender = str(envelope.mail_from or "").strip("<>")  # "<>": the null reverse-path of a DSN/MDN
        eml_path = self.evidence.store(SOURCE, "received.eml", raw)
        try:
            analysis = analyse(
                raw,
                recipients,
                authorised_senders=self.authorised_senders,
                known_patients=self.known_patients,
            )
        except MessageRefused as refused:
            self.evidence.emit(
                SOURCE,
                "mss.message_received",
                {
                    "message_id": None,
                    "from": sender,
                    "to": recipients,
                    "to_address": recipients[0].lower() if recipients else None,
                    "mailbox_types": [str(t) for t in types],
                    "subject": None,
                    "headers": {},
                    "xdm": None,
                    "accepted": False,
                    "error": refused.reply,
                    "error_code": None,
                },
                artifacts=(eml_path,),
            )
            return refused.reply
        artifacts = [eml_path]
        if analysis.xdm_bytes is not None:
            artifacts.append(self.evidence.store(SOURCE, "IHE_XDM.zip", analysis.xdm_bytes))
        common = {
            "message_id": analysis.message_id,
            "from": sender,
            "to": recipients,
            "subject": analysis.subject,
            # the X-MSS-* headers, and the request of a processing acknowledgement (MSS/PRO.02)
            "headers": dict(sorted({**analysis.mss_headers, **_ack_request(analysis.message)}.items())),
            # present only when the mail carries an INS (CDA recordTarget or X-MSS-INS): rules test ``exists``
            **({"patient_ins": analysis.patient_ins} if analysis.patient_ins else {}),
            "xdm": None if analysis.xdm is None else {"documents": analysis.documents},
            "accepted": True,
            "error": analysis.error,
            "error_code": analysis.error_code,
            "document_id": None,
            "xdm_complete": False,
            **analysis.facts,
        }
        # One event per recipient: rules correlate a delivery with the recipient the DCC meant (to_address).
        for rcpt, kind in zip(recipients, types, strict=True):
            with self._lock:
                seen = self._seen_ids.setdefault(rcpt.lower(), set())
                duplicate = bool(analysis.message_id) and analysis.message_id in seen
                seen.add(analysis.message_id)
            self.evidence.emit(
                SOURCE,
                "mss.message_received",
                {**common, "to_address": rcpt.lower(), "mailbox_types": [str(kind)], "duplicate": duplicate},
                artifacts=tuple(artifacts),
            )
        listeners: list[tuple[Listener, Delivered]] = []
        with self._lock:
            for rcpt, kind in zip(recipients, types, strict=True):
                delivered = Delivered(rcpt.lower(), kind, sender, analysis, tuple(artifacts))
                self.mailboxes.setdefault(rcpt.lower(), []).append(delivered)
                listeners += [(fn, delivered) for fn in self._listeners.get(rcpt.lower(), [])]
        self._acknowledge(analysis, recipients, sender, envelope)
        for listener, delivered in listeners:
            listener(delivered)
        return "250 2.0.0 OK: queued as " + (analysis.message_id or "message")

    def _acknowledge(
        self, analysis: Analysis, recipients: list[str], sender: str, envelope: Envelope
    ) -> None:
        if not sender:
            return  # null reverse-path (a DSN or MDN itself): never acknowledge, RFC 3461 §5.2
        wants_dsn = self.always_dsn or any(
            o.startswith("NOTIFY=") and "SUCCESS" in o for o in getattr(envelope, "dsn_rcpt", [])
        )
        if wants_dsn:
            self._send(build_dsn(analysis.message, recipients, sender), analysis.message_id, "dsn", None)
        notify = analysis.message.get("Disposition-Notification-To")
        if notify:
            to = str(notify).strip() or sender
            for rcpt in recipients:
                mdn = build_mdn(analysis.message, rcpt, to, analysis.error_code, analysis.error)
                self._send(mdn, analysis.message_id, "mdn", analysis.error_code)

    def _send(self, ack: EmailMessage, message_id: str, kind: str, code: int | None) -> None:
        raw = ack.as_bytes(policy=SMTP_POLICY)
        path = self.evidence.store(SOURCE, f"{kind}.eml", raw)
        delivered_to = "outbox"
        if self.return_smtp:
            host, _, port = self.return_smtp.removeprefix("smtp://").rpartition(":")
            try:
                with smtplib.SMTP(host, int(port), timeout=10) as client:
                    client.sendmail("", [str(ack["To"])], raw)
                delivered_to = self.return_smtp
            except (OSError, smtplib.SMTPException) as error:
                delivered_to = f"outbox (return SMTP failed: {error})"
        if delivered_to.startswith("outbox"):
            with self._lock:
                self.outbox.append(ack)
        self.evidence.emit(
            SOURCE,
            "mss.ack_sent",
            {
                "message_id": message_id,
                "original_message_id": message_id,
                "kind": kind,
                "code": code,
                "to": str(ack["To"]),
                "delivered_to": delivered_to,
            },
            artifacts=(path,),
        )
