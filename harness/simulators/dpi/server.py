"""The hospital record (DPI) simulator (seed 002): it opens the DCC by a contextual call, on a patient or to
pre-fill an administrative form for a patient the DCC does not know, and its document gateway receives the FRCP
and PPS the DCC pushes to it, for automatic integration into the patient's record.

The document gateway is an MSSanté BAL applicative (option ``address``) on the MSS simulator (option ``mss``):
whatever arrives there is read (IHE XDM, CDA header) and recorded; nothing is integrated anywhere else.
Faults on the contextual call (operation ``contextual_call``), to check the DCC's receiving side: malformed → a
token whose signature does not verify; timeout → a token already expired. Faults of the gateway are the MSS
simulator's (it is the MTA that delivers there).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from harness.simulators.base import HttpSimulator
from harness.simulators.dpi.contextual import ContextualCallError, contextual_url, issue_token
from harness.simulators.faults import FaultMode
from harness.simulators.mss.cda import CdaError, parse, read_header

SOURCE = "dpi"
DEFAULT_ADDRESS = "dpi@hopital-simule.mssante.fr"
KINDS = {"34794-8": "FRCP", "18776-5": "PPS"}


class DpiSimulator(HttpSimulator):
    """Options: ``mss``, ``address`` (the gateway's BAL applicative), ``dcc_url`` (the DCC base URL the
    contextual calls open), ``secret`` (HS256 key shared with the DCC), ``issuer``, ``audience``, ``ttl``."""

    name = "dpi"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        self.mss = options.pop("mss", None)
        self.address = str(options.pop("address", DEFAULT_ADDRESS)).lower()
        self.dcc_url: str | None = options.pop("dcc_url", None)
        self.secret = str(options.pop("secret", "dcc-recette-contextual-call-shared-secret"))
        self.issuer = str(options.pop("issuer", "dpi-simule"))
        self.audience = str(options.pop("audience", "dcc"))
        self.ttl = int(options.pop("ttl", 120))
        if options:
            raise ValueError(f"dpi: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(evidence=evidence, faults=faults, host=host, port=port)
        self.documents: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if self.mss is not None:
            self.mss.add_mailbox(self.address, "APP", listener=self.receive)

    # -- contextual call --------------------------------------------------------------------------------------
    def contextual_call(
        self, user: dict[str, Any], patient: dict[str, Any], mode: str = "open", follow: bool = False
    ) -> dict[str, Any]:
        """Issues the signed call; with ``follow``, opens the URL against ``dcc_url`` and records the status."""
        if follow and not self.dcc_url:
            raise ContextualCallError("dcc_url: not configured (the DCC the DPI opens)")
        fault = self.faults.take("contextual_call") if self.faults is not None else None
        fault_mode = None if fault is None else FaultMode(fault.mode)
        issued_at = time.time() - (self.ttl + 60 if fault_mode is FaultMode.TIMEOUT else 0)
        token, claims = issue_token(
            secret=self.secret,
            issuer=self.issuer,
            audience=self.audience,
            user=user,
            patient=patient,
            mode=mode,
            ttl=self.ttl,
            now=issued_at,
        )
        if fault_mode is FaultMode.MALFORMED:
            head, _, signature = token.rpartition(".")
            token = f"{head}.{signature[::-1]}"  # the signature no longer verifies
        if fault_mode is not None:
            self.evidence.emit(
                SOURCE, "dpi.fault_injected", {"operation": "contextual_call", "mode": str(fault_mode)}
            )
        url = contextual_url(self.dcc_url or "", token)  # relative when the caller delivers it
        status = None
        if follow:
            try:
                status = httpx.get(url, timeout=10, follow_redirects=False).status_code
            except httpx.HTTPError as error:
                status = f"{type(error).__name__}"
        record = {
            "jti": claims["jti"],
            "mode": mode,
            "user_id": user.get("idnat"),
            "patient_ins": patient.get("ins"),
            "ipp": patient.get("ipp"),
            "exp": claims["exp"],
            "url": url,
            "dcc_status": status,
        }
        with self._lock:
            self.calls.append(record)
        self.evidence.emit(
            SOURCE,
            "dpi.contextual_call",
            {k: v for k, v in record.items() if k != "url"},
            artifacts=(self.evidence.store(SOURCE, "contextual-token.jwt", token.encode()),),
        )
        return {**record, "token": token}

    # -- document gateway -------------------------------------------------------------------------------------
    def receive(self, delivered: Any) -> None:
        analysis = delivered.analysis
        documents = (
            [] if analysis.xdm is None else [d for d in analysis.xdm.documents if d.mime_type == "text/xml"]
        )
        if not documents:
            self._record(
                {
                    "document_id": None,
                    "kind": None,
                    "accepted": False,
                    "patient_ins": analysis.patient_ins,
                    "error": "no CDA document in the mail",
                },
                delivered,
            )
        for document in documents:
            try:
                header = read_header(parse(document.content))
            except CdaError as error:
                self._record(
                    {
                        "document_id": None,
                        "kind": None,
                        "accepted": False,
                        "patient_ins": analysis.patient_ins,
                        "error": str(error),
                    },
                    delivered,
                )
                continue
            path = self.evidence.store(
                SOURCE, f"{KINDS.get(header.type_code or '', 'document')}.xml", document.content
            )
            self._record(
                {
                    "document_id": header.document_id,
                    "kind": KINDS.get(header.type_code or ""),
                    "set_id": header.set_id,
                    "version": header.version,
                    "status": header.status,
                    "patient_ins": header.ins,
                    "accepted": analysis.error_code is None,
                    "error": analysis.error,
                    "error_code": analysis.error_code,
                },
                delivered,
                extra=(path,),
            )

    def _record(self, data: dict[str, Any], delivered: Any, extra: tuple[str, ...] = ()) -> None:
        data = {**data, "from": delivered.sender, "message_id": delivered.analysis.message_id}
        with self._lock:
            self.documents.append(data)
        self.evidence.emit(SOURCE, "dpi.document_received", data, artifacts=(*delivered.artifacts, *extra))

    def build_app(self) -> Any:
        app = FastAPI(
            title="Hospital record (DPI) simulator", docs_url=None, redoc_url=None, openapi_url=None
        )

        @app.get("/documents")
        async def documents() -> JSONResponse:
            with self._lock:
                return JSONResponse({"address": self.address, "documents": list(self.documents)})

        @app.post("/contextual-calls")
        async def call(request: Request) -> JSONResponse:
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
                result = await asyncio.to_thread(
                    self.contextual_call,
                    dict(body.get("user") or {}),
                    dict(body.get("patient") or {}),
                    str(body.get("mode", "open")),
                    bool(body.get("follow", False)),
                )
            except (ValueError, ContextualCallError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            return JSONResponse(result)

        return app
