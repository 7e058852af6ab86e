"""The test-driver API (docs/test-driver.md): what a recette scenario asks of a DCC, over HTTP.

An editor's DCC implements these few operations so that the harness can run the recette against it; the reference
DCC serves them from ``dcc.driver.Driver``, the very code the in-process target calls. A refusal is HTTP 409 with
the stable reason code; an unknown id 404; a malformed body 422 naming the field (FastAPI's validation).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from dcc import events
from dcc.api import scopes
from dcc.driver import Driver, NotFound, Refused

router = APIRouter(prefix="/driver", tags=["test-driver"])

Status = Literal["en_cours", "complete", "valide", "cloture"]


class TraitsIn(BaseModel):
    nom_naissance: str = Field(min_length=1, max_length=100)
    prenoms: list[str] = Field(min_length=1)
    sexe: Literal["M", "F"]
    date_naissance: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    lieu_naissance: str | None = Field(default=None, pattern=r"^[0-9AB]{5}$")


class PatientIn(BaseModel):
    traits: TraitsIn
    author: str = Field(min_length=1)
    mode: Literal["saisie", "flux"] = "saisie"
    ins_matricule: str | None = Field(default=None, pattern=r"^[0-9AB]{15}$")
    ins_oid: str | None = None


class IdentityStatusIn(BaseModel):
    to: Literal["provisoire", "recuperee", "validee", "qualifiee"]
    author: str = Field(min_length=1)
    reason: str = ""
    justificatif: str | None = None
    downgrade: bool = False
    user_kind: Literal["liberal", "etablissement"] | None = None
    finess: str | None = Field(default=None, pattern=r"^\d{9}$")
    cgu_version: str | None = None


class CguIn(BaseModel):
    user_id: str = Field(min_length=1)
    cgu_version: str = Field(min_length=1)
    user_kind: Literal["liberal", "etablissement"]


class DocumentIn(BaseModel):
    author: str = Field(min_length=1)
    content: dict[str, Any] = Field(default_factory=dict)


class FrcpIn(DocumentIn):
    patient_id: str
    finess: str | None = Field(default=None, pattern=r"^\d{9}$")  # the establishment it is produced for


class PpsIn(DocumentIn):
    frcp_id: str


class EntryIn(BaseModel):
    field: str = Field(min_length=1, max_length=64)
    value: str
    author: str = Field(min_length=1)


class StatusIn(BaseModel):
    to: Status
    author: str = Field(min_length=1)


class AuthorIn(BaseModel):
    author: str = Field(min_length=1)


class AttachmentIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    mime_type: str
    content_base64: str
    author: str = Field(min_length=1)


def _driver(request: Request) -> Driver:
    """The scenario's own database on a SQLite test instance (dcc.api.scopes), else the DCC's one."""
    isolated = getattr(request.app.state, "scopes", None)
    scope = events.scope.get()
    if isolated is not None and scope:
        return isolated.driver(scopes.run.get() or "", scope)  # type: ignore[return-value]
    driver = getattr(request.app.state, "driver", None)
    if driver is None:
        driver = request.app.state.driver = Driver(request.app.state.session_factory)
    return driver


def _call(function, *args, **kwargs) -> dict[str, Any]:
    try:
        return function(*args, **kwargs)
    except Refused as refused:
        raise HTTPException(409, detail={"reason": refused.reason, "message": str(refused)}) from None
    except NotFound as missing:
        raise HTTPException(404, detail={"reason": "not_found", "message": str(missing)}) from None


@router.post(
    "/patients",
    status_code=201,
    summary="Create a patient from traits (typed by hand or received by flow)",
    operation_id="create_patient",
)
def create_patient(body: PatientIn, request: Request) -> dict[str, Any]:
    return _call(
        _driver(request).create_patient,
        body.traits.model_dump(),
        body.author,
        mode=body.mode,
        ins_matricule=body.ins_matricule,
        ins_oid=body.ins_oid,
    )


@router.get(
    "/patients/{patient_id}", summary="A patient's identity and its status", operation_id="get_patient"
)
def get_patient(patient_id: str, request: Request) -> dict[str, Any]:
    return _call(_driver(request).get_patient, patient_id)


@router.post(
    "/patients/{patient_id}/identity-status",
    summary="Change the identity status (RNIV)",
    operation_id="change_identity_status",
)
def change_identity_status(patient_id: str, body: IdentityStatusIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).change_identity_status, patient_id, **body.model_dump())


@router.post(
    "/cgu/acceptances", status_code=201, summary="A professional accepts the CGU", operation_id="accept_cgu"
)
def accept_cgu(body: CguIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).accept_cgu, body.user_id, body.cgu_version, body.user_kind)


@router.post("/frcp", status_code=201, summary="Create an FRCP for a patient", operation_id="create_frcp")
def create_frcp(body: FrcpIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).create_frcp, body.patient_id, body.author, body.content, body.finess)


@router.post(
    "/pps", status_code=201, summary="Create a PPS from its validated FRCP", operation_id="create_pps"
)
def create_pps(body: PpsIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).create_pps, body.frcp_id, body.author, body.content)


@router.get(
    "/documents/{document_id}",
    summary="A document (FRCP or PPS), its status and content",
    operation_id="get_document",
)
def get_document(document_id: str, request: Request) -> dict[str, Any]:
    return _call(_driver(request).get_document, document_id)


@router.post(
    "/documents/{document_id}/entries",
    summary="A manual entry in a document, with its operator",
    operation_id="enter",
)
def enter(document_id: str, body: EntryIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).enter, document_id, body.field, body.value, body.author)


@router.post(
    "/documents/{document_id}/status", summary="Change a document's status", operation_id="set_status"
)
def set_status(document_id: str, body: StatusIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).set_status, document_id, body.to, body.author)


@router.post(
    "/documents/{document_id}/versions",
    status_code=201,
    summary="A new version of a validated document",
    operation_id="new_version",
)
def new_version(document_id: str, body: AuthorIn, request: Request) -> dict[str, Any]:
    return _call(_driver(request).new_version, document_id, body.author)


@router.post(
    "/documents/{document_id}/attachments",
    status_code=201,
    summary="Attach a file to a document",
    operation_id="add_attachment",
)
def add_attachment(document_id: str, body: AttachmentIn, request: Request) -> dict[str, Any]:
    return _call(
        _driver(request).add_attachment,
        document_id,
        body.title,
        body.mime_type,
        body.content_base64,
        body.author,
    )


@router.get(
    "/audit",
    summary="The audit log in chain order and the DCC's own integrity check of it",
    operation_id="export_audit",
)
def export_audit(request: Request) -> dict[str, Any]:
    return _driver(request).export_audit()


@router.get(
    "/events",
    summary="The DCC's event journal in the trace envelope (docs/trace-events.md)",
    operation_id="list_events",
)
def list_events(
    request: Request,
    after: int = Query(0, ge=0, description="only events with seq greater than this"),
    limit: int = Query(1000, ge=1, le=10000),
    scope: str | None = Query(None, description="only events caused on behalf of this scenario"),
) -> list[dict[str, Any]]:
    return _driver(request).events(after=after, limit=limit, scope=scope)
