"""HTTP endpoints of the FRCP and PPS: create (with the prefill proposal), enter fields, change status, new version,
attachments, CR-GM reception, the user's choice of prefilled fields, reading. Each change goes through
``dcc.services.commands`` (refusals are journaled there), so the API and the in-process target behave alike.

Errors: a refusal of the lifecycle is 409 with its ``reason`` code; an attachment of a refused type 415, too large
413; an unreadable CR-GM 422 with the XPath; malformed input 422 (pydantic); an unknown id 404.
Until authentication lands (issue 5), the operator is given as ``author`` in each request.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc.api.deps import session as db_session
from dcc.cda_input.crgm import MAX_BYTES as CRGM_MAX_BYTES
from dcc.cda_input.crgm import CdaInputError
from dcc.db.models import Attachment, Document, FieldEntry, Patient
from dcc.db.models_reuse import ExternalDocument
from dcc.services import commands, reuse
from dcc.services.documents import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES, DocumentRuleError, describe

router = APIRouter(tags=["documents"])
DB = Annotated[Session, Depends(db_session)]
Author = Annotated[str, Field(min_length=1, max_length=64)]
FieldName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")]
XML_TYPES = {"application/xml", "text/xml", "application/hl7-v3+xml"}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateDocument(_Input):
    kind: Literal["FRCP", "PPS"]
    author: Author
    patient_id: int | None = None  # FRCP
    frcp_id: int | None = None  # PPS: its validated FRCP
    content: dict[FieldName, Any] = Field(default_factory=dict)
    establishment_text_1: str | None = Field(default=None, max_length=5000)
    crgm_id: int | None = None  # FRCP: the CR-GM to offer (default: the patient's latest)

    @model_validator(mode="after")
    def _target(self) -> CreateDocument:
        if self.kind == "FRCP" and (self.patient_id is None or self.frcp_id is not None):
            raise ValueError("an FRCP needs patient_id (and no frcp_id)")
        if self.kind == "PPS" and (self.frcp_id is None or self.patient_id is not None or self.crgm_id):
            raise ValueError("a PPS needs frcp_id (its FRCP gives the patient)")
        return self


class EnterFields(_Input):
    author: Author
    values: dict[FieldName, Annotated[str, Field(max_length=100_000)]] = Field(min_length=1)


class ChangeStatus(_Input):
    author: Author
    to: Literal["en_cours", "complete", "valide", "cloture"]


class NewVersion(_Input):
    author: Author


class ApplyPrefill(_Input):
    author: Author
    keep: Literal["all"] | list[FieldName]


def _error(status: int, reason: str, detail: str, **more: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"reason": reason, "detail": detail, **more})


def _refused(error: DocumentRuleError) -> JSONResponse:
    status = {"type_refused": 415, "too_large": 413}.get(error.reason, 409)
    return _error(status, error.reason, str(error))


def _document(session: Session, document: Document, full: bool = False) -> dict[str, Any]:
    body = {"id": document.id, **describe(session, document), "created_at": document.created_at.isoformat()}
    body["created_by"] = document.created_by
    if full:
        body["content"] = document.content
        body["rgpd_text_1"] = document.rgpd_text_1
        body["entries"] = [  # the history of manual entries, with their operators (DOC.07)
            {"field": e.field, "value": e.value, "author": e.author, "at": e.at.isoformat()}
            for e in session.scalars(
                select(FieldEntry).where(FieldEntry.document_id == document.id).order_by(FieldEntry.id)
            )
        ]
        body["attachments"] = [
            {
                "id": a.id,
                "title": a.title,
                "mime_type": a.mime_type,
                "sha256": a.sha256,
                "size": len(a.content),
            }
            for a in session.scalars(select(Attachment).where(Attachment.document_id == document.id))
        ]
        body["proposals"] = [_proposal(p) for p in reuse.proposals_of(session, document)]
    return body


def _proposal(proposal: reuse.Proposal) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "items": [item.as_dict() for item in proposal.items],
        "sources": proposal.sources(),
        "kept": proposal.kept,
    }


def _created(session: Session, proposal: reuse.Proposal) -> JSONResponse:
    body = {"document": _document(session, proposal.document, full=True), "proposal": _proposal(proposal)}
    return JSONResponse(status_code=201, content=body)


def _call(function, *args, **kwargs) -> Any:
    """Runs a command; a refusal or unknown id becomes the matching response (returned, not raised)."""
    try:
        return function(*args, **kwargs)
    except commands.NotFound as missing:
        return _error(404, "not_found", str(missing))
    except CdaInputError as error:
        return _error(422, error.reason, str(error), xpath=error.xpath)
    except DocumentRuleError as error:
        return _refused(error)


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` (never read whole into memory first)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@router.post("/documents", status_code=201)
def create_document(body: CreateDocument, session: DB):
    if body.kind == "FRCP":
        result = _call(
            commands.create_frcp,
            session,
            body.patient_id,
            body.author,
            body.content,
            body.establishment_text_1,
            body.crgm_id,
        )
    else:
        result = _call(commands.create_pps, session, body.frcp_id, body.author, body.content)
    return result if isinstance(result, JSONResponse) else _created(session, result)


@router.get("/documents/{document_id}")
def get_document(document_id: int, session: DB):
    document = session.get(Document, document_id)
    if document is None:
        return _error(404, "not_found", f"no document {document_id}")
    return _document(session, document, full=True)


@router.get("/patients/{patient_id}/documents")
def list_documents(
    patient_id: int, session: DB, kind: Annotated[Literal["FRCP", "PPS"] | None, Query()] = None
):
    if session.get(Patient, patient_id) is None:
        return _error(404, "not_found", f"no patient {patient_id}")
    query = select(Document).where(Document.patient_id == patient_id).order_by(Document.id)
    if kind is not None:
        query = query.where(Document.kind == kind)
    return [_document(session, d) for d in session.scalars(query)]


@router.post("/documents/{document_id}/fields")
def enter_fields(document_id: int, body: EnterFields, session: DB):
    result = _call(commands.enter_fields, session, document_id, body.values, body.author)
    if isinstance(result, JSONResponse):
        return result
    return _document(session, session.get(Document, document_id), full=True)


@router.post("/documents/{document_id}/status")
def change_status(document_id: int, body: ChangeStatus, session: DB):
    result = _call(commands.change_status, session, document_id, body.to, body.author)
    return result if isinstance(result, JSONResponse) else _document(session, result, full=True)


@router.post("/documents/{document_id}/versions", status_code=201)
def new_version(document_id: int, body: NewVersion, session: DB):
    result = _call(commands.new_version, session, document_id, body.author)
    return result if isinstance(result, JSONResponse) else _created(session, result)


@router.post("/documents/{document_id}/attachments", status_code=201)
async def add_attachment(
    document_id: int,
    request: Request,
    session: DB,
    title: Annotated[str, Query(min_length=1, max_length=200)],
    author: Annotated[str, Query(min_length=1, max_length=64)],
):
    """The file is the raw request body, its type the ``Content-Type`` header; a refused type is not read, a body
    over the limit is not read further (both are journaled by the service layer)."""
    mime_type = _media_type(request)
    content: bytes | None = b""
    declared = request.headers.get("content-length", "")
    if mime_type in ATTACHMENT_TYPES:
        content = await _bounded_body(request, MAX_ATTACHMENT_BYTES)
        if content is not None and not content:
            return _error(422, "empty", "the attachment is empty")
    size = int(declared) if declared.isdigit() else None
    result = _call(commands.add_attachment, session, document_id, title, mime_type, content, author, size)
    if isinstance(result, JSONResponse):
        return result
    return JSONResponse(
        status_code=201,
        content={
            "id": result.id,
            "title": result.title,
            "mime_type": result.mime_type,
            "sha256": result.sha256,
        },
    )


@router.post("/patients/{patient_id}/crgm", status_code=201)
async def receive_crgm(
    patient_id: int,
    request: Request,
    session: DB,
    author: Annotated[str, Query(min_length=1, max_length=64)],
    source: Annotated[Literal["upload", "mss", "attachment", "dmp"], Query()] = "upload",
):
    """A CR-GM (CDA R2 N3, the raw body as XML) for the patient, kept for the conclusion of a new FRCP."""
    if _media_type(request) not in XML_TYPES:
        return _error(415, "type_refused", f"a CR-GM is XML ({', '.join(sorted(XML_TYPES))})")
    data = await _bounded_body(request, CRGM_MAX_BYTES)
    if data is None:
        return _error(413, "too_large", f"a CR-GM is at most {CRGM_MAX_BYTES} bytes")
    result = _call(commands.integrate_crgm, session, patient_id, data, author, source)
    if isinstance(result, JSONResponse):
        return result
    stored: ExternalDocument = result
    return JSONResponse(
        status_code=201,
        content={"id": stored.id, "document_id": stored.document_id, "extracted": stored.extracted},
    )


@router.post("/prefill-proposals/{proposal_id}/apply")
def apply_prefill(proposal_id: int, body: ApplyPrefill, session: DB):
    result = _call(commands.apply_prefill, session, proposal_id, body.keep, body.author)
    if isinstance(result, JSONResponse):
        return result
    return {"kept": [entry.field for entry in result]}


@router.get("/documents/{document_id}/syntheses")
def syntheses(document_id: int, session: DB, as_of: Annotated[date | None, Query()] = None):
    """The two syntheses of a PPS, rebuilt now (a screen display of them is a rendering: it is journaled)."""
    document = session.get(Document, document_id)
    if document is None:
        return _error(404, "not_found", f"no document {document_id}")
    try:
        built = reuse.build_syntheses(session, document, as_of)
    except DocumentRuleError as error:
        return _refused(error)
    built.record(session)
    return {
        "document_id": built.document_id,
        "as_of": built.as_of.isoformat(),
        "treatments": [i.as_dict() for i in built.treatments],
        "supportive_care": [i.as_dict() for i in built.supportive_care],
        "future_items": built.future_items,
    }
