"""HTTP face of the Annuaire Santé simulator: the FHIR v2 base, the ESANTE-API-KEY header, extraction files.

Every refusal is a FHIR OperationOutcome with a 4xx/5xx status, as the real gateway answers (NATIONAL-SERVICES §5).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from harness.simulators import http_faults
from harness.simulators.annuaire import fhir
from harness.simulators.annuaire.extraction import extraction_zip

if TYPE_CHECKING:
    from harness.simulators.annuaire.server import AnnuaireSimulator

FHIR_JSON = "application/fhir+json"
BASE_PATH = "/fhir/v2"


def _outcome(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(fhir.outcome(message, code), status_code=status, media_type=FHIR_JSON)


def build_app(sim: AnnuaireSimulator) -> FastAPI:
    app = FastAPI(title="Annuaire Santé simulator", docs_url=None, redoc_url=None, openapi_url=None)

    async def fault_response(operation: str) -> Response | None:
        return await http_faults.injected(
            sim,
            "annuaire",
            operation,
            refuse=lambda: _outcome(403, "access refused (injected fault)", "forbidden"),
            unavailable=lambda: _outcome(503, "service unavailable (injected fault)", "transient"),
            malformed=b'{"resourceType": "Bundle", "entry": [',
            media_type=FHIR_JSON,
        )

    def authorised(request: Request) -> Response | None:
        key = request.headers.get("ESANTE-API-KEY", "")
        if not key or (sim.api_key and key != sim.api_key):
            return _outcome(401, "missing or invalid ESANTE-API-KEY header", "security")
        return None

    async def run_search(request: Request, kind: str, params: list[tuple[str, str]]) -> Response:
        refused = authorised(request) or await fault_response("search")
        if refused is not None:
            return refused
        base = str(request.base_url).rstrip("/") + BASE_PATH
        try:
            bundle = fhir.search(sim.directory, kind, params, base)
        except fhir.SearchError as error:
            sim.evidence.emit(
                "annuaire",
                "annuaire.search",
                {"resource": kind, "params": _params(params), "count": None, "error": str(error)},
            )
            return _outcome(error.status, str(error), error.code)
        sim.evidence.emit(
            "annuaire",
            "annuaire.search",
            {"resource": kind, "params": _params(params), "count": bundle["total"], "error": None},
        )
        return JSONResponse(bundle, media_type=FHIR_JSON)

    @app.get(BASE_PATH + "/metadata")
    async def metadata() -> Response:
        return JSONResponse(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "kind": "instance",
                "fhirVersion": "4.0.1",
                "format": ["json"],
                "rest": [
                    {
                        "mode": "server",
                        "resource": [
                            {
                                "type": kind,
                                "interaction": [{"code": "read"}, {"code": "search-type"}],
                                "searchParam": [
                                    {"name": n, "type": "token" if n in ("identifier", "_id") else "string"}
                                    for n in sorted(fhir.PARAMS)
                                ],
                            }
                            for kind in fhir.RESOURCES
                        ],
                    }
                ],
            },
            media_type=FHIR_JSON,
        )

    @app.get(BASE_PATH + "/{kind}")
    async def search_get(kind: str, request: Request) -> Response:
        return await run_search(request, kind, list(request.query_params.multi_items()))

    @app.post(BASE_PATH + "/{kind}/_search")
    async def search_post(kind: str, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _outcome(415, "POST _search needs application/x-www-form-urlencoded", "not-supported")
        body = await request.body()
        try:
            params = parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=100
            )
        except (UnicodeDecodeError, ValueError) as error:
            return _outcome(400, f"_search body: not a form ({error})", "invalid")
        return await run_search(request, kind, list(request.query_params.multi_items()) + params)

    @app.get(BASE_PATH + "/{kind}/{resource_id}")
    async def read(kind: str, resource_id: str, request: Request) -> Response:
        refused = authorised(request) or await fault_response("read")
        if refused is not None:
            return refused
        try:
            resource = fhir.read(sim.directory, kind, resource_id)
        except fhir.SearchError as error:
            return _outcome(error.status, str(error), error.code)
        return JSONResponse(resource, media_type=FHIR_JSON)

    @app.get("/extractions/PS_LibreAcces.zip")
    async def extraction() -> Response:
        """The public extraction files (no API key, as on annuaire.sante.fr)."""
        when = sim.extraction_time or datetime.now(UTC)
        content = extraction_zip(sim.directory, when)
        path = sim.evidence.store("annuaire", "PS_LibreAcces.zip", content)
        sim.evidence.emit(
            "annuaire",
            "annuaire.extraction",
            {"files": 2, "stamp": when.strftime("%Y%m%d%H%M")},
            artifacts=(path,),
        )
        return Response(content, media_type="application/zip")

    return app


def _params(params: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, list[str]] = {}
    for key, value in params:
        out.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in sorted(out.items())}
