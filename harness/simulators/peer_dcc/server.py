"""The peer DCC: another region's DCC that receives an FRCP au statut « complété » on its BAL applicative,
completes and validates it, and sends the validated version back to the source DCC (cahier des charges §2.1.4,
§2.3.5 « BAL applicative identifiant la RCP »).

It receives through the MSSanté simulator (option ``mss``: the FRCP is mailed to ``address`` in the MSSanté trust
space, the MSS simulator being the receiving MTA) and answers by SMTP (``smtp_relay``, by default the MSS
simulator itself, so the answer lands in the source DCC's mailbox there) to ``return_address`` or, when none is
configured, to the sender of the FRCP. Work happens on its own thread so the SMTP transaction that brought the
FRCP is not held up. Its HTTP face lists what it received and returned (``GET /frcp``). Faults (operation ``return``): refuse,
error_5xx and drop → the FRCP is never returned; timeout/slow → returned after ``delay_s``; malformed → the
returned CDA is truncated (not well-formed).
"""

from __future__ import annotations

import queue
import smtplib
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from harness.simulators.base import HttpSimulator
from harness.simulators.faults import FaultMode
from harness.simulators.mss.cda import CdaError, parse, read_header
from harness.simulators.peer_dcc.frcp import validate_frcp
from harness.simulators.xdm import XdmInput, build_xdm

SOURCE = "peer-dcc"
DEFAULT_ADDRESS = "rcp@dcc-pair.mssante.fr"
MAX_FAULT_DELAY_S = 30.0


class PeerDccSimulator(HttpSimulator):
    """Options: ``mss`` (the MssSimulator it receives through), ``address`` (its BAL applicative),
    ``return_address``, ``smtp_relay`` (``host:port``), ``finess`` and ``organization`` (the custodian it sets)."""

    name = "peer-dcc"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        self.mss = options.pop("mss", None)
        self.address = str(options.pop("address", DEFAULT_ADDRESS)).lower()
        self.return_address: str | None = options.pop("return_address", None)
        self.smtp_relay: str | None = options.pop("smtp_relay", None)
        self.finess = str(options.pop("finess", "690000002"))
        self.organization = str(options.pop("organization", "DCC pair (simulé), région voisine"))
        if options:
            raise ValueError(f"peer-dcc: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(evidence=evidence, faults=faults, host=host, port=port)
        self.received: list[dict[str, Any]] = []
        self.returned: list[dict[str, Any]] = []
        self._queue: queue.Queue[Any] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        if self.mss is not None:
            self.mss.add_mailbox(self.address, "APP", listener=self._on_mail)

    def build_app(self) -> Any:
        app = FastAPI(title="Peer DCC simulator", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/frcp")
        async def frcp() -> JSONResponse:
            return JSONResponse(
                {"address": self.address, "received": self.received, "returned": self.returned}
            )

        return app

    def start(self) -> Any:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="peer-dcc-worker", daemon=True)
            self._worker.start()
        return super().start()

    def stop(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
            self._worker = None
        super().stop()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every received FRCP has been handled (tests wait on this instead of sleeping)."""
        return self._idle.wait(timeout)

    def _on_mail(self, delivered: Any) -> None:
        self._idle.clear()
        self._queue.put(delivered)
        if self._worker is None:  # not started: handle inline so in-process use still works
            self._queue.put(None)
            self._work()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._idle.set()
                return
            try:
                self.handle(item)
            finally:
                if self._queue.empty():
                    self._idle.set()

    def handle(self, delivered: Any) -> None:
        analysis = delivered.analysis
        documents = (
            [] if analysis.xdm is None else [d for d in analysis.xdm.documents if d.mime_type == "text/xml"]
        )
        if not documents:
            self.evidence.emit(
                SOURCE,
                "peer.frcp_received",
                {
                    "document_id": None,
                    "set_id": None,
                    "version": None,
                    "status": None,
                    "accepted": False,
                    "error": "no CDA document in the mail",
                    "from": delivered.sender,
                },
                artifacts=delivered.artifacts,
            )
            return
        for document in documents:
            returned = self._validated_return(document.content)
            if returned is not None:  # an FRCP this region sent, validated by the source DCC (§2.1.4, ECH.04)
                record = {
                    "document_id": returned.document_id,
                    "set_id": returned.set_id,
                    "version": returned.version,
                    "status": returned.status,
                    "patient_ins": returned.ins,
                }
                self.received.append({**record, "accepted": True})
                self.evidence.emit(
                    SOURCE,
                    "peer.frcp_received",
                    {**record, "accepted": True, "error": None, "from": delivered.sender},
                    artifacts=delivered.artifacts,
                )
                continue
            try:
                validated, before, after = validate_frcp(
                    document.content, custodian_finess=self.finess, custodian_name=self.organization
                )
            except CdaError as error:
                self.evidence.emit(
                    SOURCE,
                    "peer.frcp_received",
                    {
                        "document_id": None,
                        "set_id": None,
                        "version": None,
                        "status": None,
                        "accepted": False,
                        "error": str(error),
                        "from": delivered.sender,
                    },
                    artifacts=delivered.artifacts,
                )
                self.received.append({"accepted": False, "error": str(error)})
                continue
            record = {
                "document_id": before.document_id,
                "set_id": before.set_id,
                "version": before.version,
                "status": before.status,
                "patient_ins": before.ins,
            }
            self.received.append({**record, "accepted": True})
            self.evidence.emit(
                SOURCE,
                "peer.frcp_received",
                {**record, "accepted": True, "error": None, "from": delivered.sender},
                artifacts=delivered.artifacts,
            )
            self._return(validated, after, delivered.sender, analysis, before.version)

    @staticmethod
    def _validated_return(content: bytes) -> Any:
        """The header of an FRCP « validé » (what comes back from the DCC an FRCP was sent to), else None."""
        try:
            header = read_header(parse(content))
        except CdaError:
            return None
        return header if header.type_code == "34794-8" and header.status == "valide" else None

    def send_frcp(
        self, cda: bytes, to: str, ins: str | None = None, headers: dict[str, str] | None = None
    ) -> str:
        """This region's DCC sends an FRCP « complétée » to another DCC's BAL applicative (the first half of
        §2.1.4 seen from the other side, ECH.04/ECH.05): an XDM zip by MSSanté through ``smtp_relay`` (by default the
        MSS simulator). Returns the Message-ID."""
        header = read_header(parse(cda))
        patient_id = f"{header.ins}^^^&{header.ins_oid}&ISO" if header.ins else ""
        xdm = build_xdm(
            [XdmInput(cda, unique_id=header.document_id or "", patient_id=patient_id, title="Fiche RCP")]
        )
        message = EmailMessage()
        message["From"] = self.address
        message["To"] = to
        message["Date"] = formatdate(usegmt=True)
        message_id = make_msgid(domain="dcc-pair.mssante.fr")
        message["Message-ID"] = message_id
        message["Subject"] = "XDM/1.0/DDM+Fiche RCP complétée"
        message["Disposition-Notification-To"] = self.address
        if ins or header.ins:
            message["X-MSS-INS"] = ins or header.ins or ""
        for key, value in (headers or {}).items():
            message[key] = value
        message.set_content("Fiche RCP complétée pour la RCP de votre région (§2.1.4).\r\n")
        message.add_attachment(xdm, maintype="application", subtype="zip", filename="IHE_XDM.zip")
        raw = message.as_bytes(policy=SMTP_POLICY)
        artifacts = (self.evidence.store(SOURCE, "frcp-sent.eml", raw),)
        relay = self.smtp_relay or (f"{self.mss.host}:{self.mss.port}" if self.mss is not None else None)
        if relay is None:
            raise RuntimeError("peer-dcc: no smtp_relay to send through")
        host, _, port = relay.removeprefix("smtp://").rpartition(":")
        with smtplib.SMTP(host, int(port), timeout=10) as client:
            client.sendmail(self.address, [to], raw)
        self.evidence.emit(
            SOURCE,
            "peer.frcp_sent",
            {
                "document_id": header.document_id,
                "set_id": header.set_id,
                "version": header.version,
                "status": header.status,
                "to": to,
                "message_id": message_id,
            },
            artifacts=artifacts,
        )
        return message_id

    def _return(
        self, cda: bytes, header: Any, sender: str, analysis: Any, previous_version: int | None
    ) -> None:
        to = self.return_address or sender
        fault = self.faults.take("return") if self.faults is not None else None
        if fault is not None:
            mode = FaultMode(fault.mode)
            self.evidence.emit(SOURCE, "peer.fault_injected", {"operation": "return", "mode": str(mode)})
            if mode in (FaultMode.REFUSE, FaultMode.ERROR_5XX, FaultMode.DROP):
                record = {
                    "document_id": header.document_id,
                    "set_id": header.set_id,
                    "version": header.version,
                    "previous_version": previous_version,
                    "custodian": header.custodian,
                    "status": header.status,
                    "to": to,
                    "result": "failure",
                    "error": f"not returned (injected fault {mode})",
                }
                self.returned.append(record)
                self.evidence.emit(SOURCE, "peer.frcp_returned", record)
                return
            if mode in (FaultMode.TIMEOUT, FaultMode.SLOW):
                time.sleep(
                    min(fault.delay_s or (10.0 if mode is FaultMode.TIMEOUT else 1.0), MAX_FAULT_DELAY_S)
                )
            if mode is FaultMode.MALFORMED:
                cda = cda[: len(cda) // 2]  # a truncated, not well-formed CDA: the source DCC must refuse it
        patient_id = f"{header.ins}^^^&{header.ins_oid}&ISO" if header.ins else ""
        xdm = build_xdm(
            [
                XdmInput(
                    cda, unique_id=header.document_id or "", patient_id=patient_id, title="Fiche RCP validée"
                )
            ]
        )
        message = EmailMessage()
        message["From"] = self.address
        message["To"] = to
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain="dcc-pair.mssante.fr")
        message["Subject"] = analysis.subject or "XDM/1.0/DDM+Fiche RCP"
        for key, value in analysis.mss_headers.items():
            message[key] = value
        message.set_content("Fiche RCP validée par la RCP de la région réceptrice (§2.1.4).\r\n")
        message.add_attachment(xdm, maintype="application", subtype="zip", filename="IHE_XDM.zip")
        raw = message.as_bytes(policy=SMTP_POLICY)
        artifacts = (
            self.evidence.store(SOURCE, "frcp-validated.xml", cda),
            self.evidence.store(SOURCE, "frcp-returned.eml", raw),
        )
        relay = self.smtp_relay or (f"{self.mss.host}:{self.mss.port}" if self.mss is not None else None)
        error = None
        if relay is None:
            error = "no smtp_relay configured"
        else:
            host, _, port = relay.removeprefix("smtp://").rpartition(":")
            try:
                with smtplib.SMTP(host, int(port), timeout=10) as client:
                    client.sendmail(self.address, [to], raw)
            except (OSError, smtplib.SMTPException) as failure:
                error = f"{type(failure).__name__}: {failure}"
        record = {
            "document_id": header.document_id,
            "set_id": header.set_id,
            "version": header.version,
            "previous_version": previous_version,
            "custodian": header.custodian,
            "status": header.status,
            "to": to,
            "result": "failure" if error else "success",
            "error": error,
        }
        self.returned.append(record)
        self.evidence.emit(SOURCE, "peer.frcp_returned", record, artifacts=artifacts)
