"""The INSi simulator: the téléservice INSi of the Assurance Maladie as a SOAP 1.2 endpoint on loopback.

Operations of WSDL 1.5.0: ``rechercherInsAvecTraitsIdentite`` (body RECSANSVITALE) and
``rechercherInsAvecCarteVitale`` (body RECVITALE); answers RESULTAT with CodeCR 00 (one identity: INS, history,
TIQ), 01 (none), 02 (several). The "vérification" operation is public but not in that WSDL [U]: a DCC verifies by a
trait search compared with its stored identity, which this simulator serves as such.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from harness.simulators import http_faults
from harness.simulators.base import HttpSimulator
from harness.simulators.insi import soap
from harness.simulators.insi.identities import by_carte_vitale, by_traits, load_identities

SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
PATH = "/insi"


class InsiSimulator(HttpSimulator):
    """Options: ``identities`` (a YAML/JSON file or a list of mappings; default: built-in test identities)."""

    name = "insi"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        self.identities = load_identities(options.pop("identities", None))
        if options:
            raise ValueError(f"insi: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(evidence=evidence, faults=faults, host=host, port=port)

    @property
    def endpoint(self) -> str:
        return self.base_url + PATH

    endpoint_url = endpoint  # the name `dcc-recette simulators up` prints

    def build_app(self) -> FastAPI:
        return build_app(self)

    def answer(self, body: bytes) -> tuple[int, bytes, dict[str, Any]]:
        """(HTTP status, SOAP envelope, event data) for one request, without faults."""
        try:
            request = soap.parse_request(body)
        except soap.SoapFault as fault:
            return (
                400,
                soap.fault_envelope(fault),
                {"operation": None, "result": "fault", "error": fault.reason},
            )
        f = request.fields
        if request.operation == "rechercherInsAvecTraitsIdentite":
            missing = [k for k in ("NomNaissance", "Prenom", "Sexe", "DateNaissance") if not f.get(k)]
            if missing:
                fault = soap.SoapFault("env:Sender", f"missing trait(s): {', '.join(missing)}", "insi_02")
                return (
                    400,
                    soap.fault_envelope(fault),
                    {"operation": request.operation, "result": "fault", "error": fault.reason},
                )
            found = by_traits(
                self.identities,
                f["NomNaissance"],
                f["Prenom"],
                f["Sexe"],
                f["DateNaissance"],
                f.get("LieuNaissance", ""),
            )
        else:
            if not f.get("NumIdentifiant"):
                fault = soap.SoapFault("env:Sender", "missing NumIdentifiant (carte Vitale)", "insi_02")
                return (
                    400,
                    soap.fault_envelope(fault),
                    {"operation": request.operation, "result": "fault", "error": fault.reason},
                )
            found = by_carte_vitale(self.identities, f["NumIdentifiant"], f.get("DateNaissance", ""))
        code = "00" if len(found) == 1 else ("01" if not found else "02")
        identity = found[0] if code == "00" else None
        data = {
            "request_id": request.message_id or f"urn:uuid:{uuid.uuid4()}",
            "operation": request.operation,
            "traits": {k: v for k, v in f.items()},
            "code_cr": code,
            "matricule": identity.matricule + identity.cle if identity else None,
            "oid": identity.oid if identity else None,
            "result": "success",
        }
        return 200, soap.result_envelope(code, identity), data


def build_app(sim: InsiSimulator) -> FastAPI:
    app = FastAPI(title="INSi simulator", docs_url=None, redoc_url=None, openapi_url=None)

    async def fault_response() -> Response | None:
        def refuse() -> Response:
            envelope = soap.fault_envelope(
                soap.SoapFault("env:Receiver", "service refusé (injected fault)", "insi_90")
            )
            return Response(envelope, status_code=500, media_type=SOAP_CONTENT_TYPE)

        return await http_faults.injected(
            sim,
            "insi",
            "insi",
            refuse=refuse,
            malformed=b"<env:Envelope><env:Body><RESULTAT>",
            media_type=SOAP_CONTENT_TYPE,
        )

    @app.post(PATH)
    async def insi(request: Request) -> Response:
        body = await request.body()
        raw_request = sim.evidence.store("insi", "request.xml", body[: soap.MAX_REQUEST_BYTES + 1])
        injected = await fault_response()
        if injected is not None:
            return injected
        status, envelope, data = sim.answer(body)
        raw_response = sim.evidence.store("insi", "response.xml", envelope)
        sim.evidence.emit("insi", "insi.request", data, artifacts=(raw_request, raw_response))
        return Response(envelope, status_code=status, media_type=SOAP_CONTENT_TYPE)

    return app
