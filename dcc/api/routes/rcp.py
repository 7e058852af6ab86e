"""Annuaire régional de RCP and RCP management over HTTP (2.1.5.3, Cadre national 5.2–5.5): the directory and its
national referential, sessions and their calendar, registrations, the 3C's final list, the quorum, and the RCP
context of an FRCP header."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from dcc.api.deps import session as db_session
from dcc.api.routes._resources_common import not_found, refused
from dcc.db.models import Document, Patient
from dcc.db.models_resources import Rcp, RcpSession
from dcc.services import rcp

router = APIRouter(prefix="/rcp", tags=["annuaire et organisation des RCP"])
Db = Annotated[Session, Depends(db_session)]
MAX_REFERENTIAL = 50 * 1024**2


class RcpIn(BaseModel):
    identifiant_rcp: str = Field(min_length=1, max_length=40)
    libelle: str = Field(min_length=1, max_length=200)
    identifiant_rrc: str | None = Field(default=None, max_length=40)
    identifiant_gestionnaire: str | None = Field(default=None, max_length=40)
    organisateur: str = Field(min_length=1, max_length=200)
    finess_organisateur: str | None = Field(default=None, max_length=9)
    centre_3c: str = Field(min_length=1, max_length=200)
    specialite: str = Field(min_length=1, max_length=100)
    quorum_specialites: int = Field(default=3, ge=1, le=20)
    author: str = Field(min_length=1, max_length=64)


class Participant(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    specialty: str | None = Field(default=None, max_length=100)
    role: Literal["responsable", "suppleant", "membre"] = "membre"


class SessionIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    date: AwareDatetime
    place: str = Field(min_length=1, max_length=200)
    visio: bool = False
    visio_url: str | None = Field(default=None, max_length=300)
    participants: list[Participant] = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=64)


class RegistrationIn(BaseModel):
    patient_id: int
    doctor: str = Field(min_length=1, max_length=64, description="the treating doctor (IdNat PS)")
    registered_by: str | None = Field(
        default=None, max_length=64, description="the 3C, on the doctor's request"
    )
    document_id: int | None = Field(default=None, description="the patient's FRCP, when started")
    motive: str | None = Field(default=None, max_length=2000)


class FinalListIn(BaseModel):
    by: str = Field(min_length=1, max_length=64, description="the 3C account closing the list")
    not_retained: list[int] = Field(default_factory=list, description="registration ids left out")


class QuorumIn(BaseModel):
    present: list[str] = Field(max_length=200)
    author: str = Field(min_length=1, max_length=64)
    quorum: Literal["ORG-126", "ORG-133", "GEN-010"] | None = None


def _rcp_out(item: Rcp) -> dict[str, Any]:
    return {
        "code": item.code,
        "rcp_id": rcp.rcp_identifier(item),
        "name": item.name,
        "rrc_id": item.rrc_id,
        "manager_id": item.manager_id,
        "organiser": item.organiser,
        "organiser_finess": item.organiser_finess,
        "centre_3c": item.centre_3c,
        "specialty": item.specialty,
        "quorum_specialties": item.quorum_specialties,
    }


def _rcp(db: Session, code: str) -> Rcp:
    try:
        return rcp.get_rcp(db, code)
    except rcp.RcpError as error:
        raise refused(error) from None


def _session(db: Session, session_id: int) -> RcpSession:
    try:
        return rcp.get_session(db, session_id)
    except rcp.RcpError as error:
        raise refused(error) from None


@router.post("/referential")
async def load_referential(
    request: Request,
    file: Annotated[str, Query(min_length=1, max_length=200)],
    author: Annotated[str, Query(min_length=1, max_length=64)],
    db: Db,
) -> dict[str, Any]:
    """The body is the national RCP referential (``;``-separated UTF-8 CSV, docs/resources.md)."""
    body = await request.body()
    if len(body) > MAX_REFERENTIAL:
        raise refused(rcp.RcpError("too_large", f"{file}: more than {MAX_REFERENTIAL} bytes"))
    try:
        report = rcp.load_referential(db, body.splitlines(keepends=True), file, author)
    except rcp.RcpError as error:
        raise refused(error) from None
    return report.__dict__


@router.post("", status_code=201)
def create_rcp(body: RcpIn, db: Db) -> dict[str, Any]:
    values = body.model_dump(exclude={"author"})
    values["quorum_specialites"] = str(values["quorum_specialites"])
    try:
        return _rcp_out(rcp.create_rcp(db, body.author, **values))
    except rcp.RcpError as error:
        raise refused(error) from None


@router.get("")
def list_rcps(db: Db, specialty: str | None = None) -> list[dict[str, Any]]:
    return [_rcp_out(item) for item in rcp.list_rcps(db, specialty)]


@router.get("/sessions")
def calendar(
    db: Db, code: str | None = None, start: AwareDatetime | None = None, end: AwareDatetime | None = None
) -> list[dict[str, Any]]:
    """The calendar of planned sessions (RCP.02), optionally of one RCP and a period."""
    item = _rcp(db, code) if code else None
    return [rcp.describe_session(db, s) for s in rcp.calendar(db, item, start, end)]


@router.get("/sessions/{session_id}")
def session_detail(session_id: int, db: Db) -> dict[str, Any]:
    planned = _session(db, session_id)
    return {
        **rcp.describe_session(db, planned),
        "registrations": [
            {
                "registration_id": r.id,
                "patient_id": r.patient_id,
                "doctor": r.doctor,
                "registered_by": r.registered_by,
                "document_id": r.document_id,
                "retained": r.retained,
            }
            for r in rcp.registrations(db, planned)
        ],
    }


@router.post("/sessions/{session_id}/registrations", status_code=201)
def register(session_id: int, body: RegistrationIn, db: Db) -> dict[str, Any]:
    planned = _session(db, session_id)
    patient = db.get(Patient, body.patient_id)
    if patient is None:
        raise not_found("unknown_patient", f"no patient {body.patient_id}")
    document = None
    if body.document_id is not None:
        document = db.get(Document, body.document_id)
        if document is None:
            raise not_found("unknown_document", f"no document {body.document_id}")
    try:
        registration = rcp.register(
            db, planned, patient, body.doctor, body.registered_by, document, body.motive
        )
    except rcp.RcpError as error:
        raise refused(error) from None
    return {
        "registration_id": registration.id,
        "session_id": session_id,
        "doctor_mss": registration.doctor_mss,
    }


@router.post("/sessions/{session_id}/final-list")
def close_final_list(session_id: int, body: FinalListIn, db: Db) -> dict[str, Any]:
    planned = _session(db, session_id)
    try:
        sent = rcp.close_final_list(db, planned, body.by, body.not_retained)
    except rcp.RcpError as error:
        raise refused(error) from None
    return {
        "session_id": session_id,
        "notifications": [
            {"recipient": n.recipient, "recipient_mss": n.recipient_mss, "text": n.text} for n in sent
        ],
    }


@router.post("/sessions/{session_id}/quorum")
def record_quorum(session_id: int, body: QuorumIn, db: Db) -> dict[str, Any]:
    planned = _session(db, session_id)
    try:
        quorum = rcp.record_quorum(db, planned, body.present, body.author, body.quorum)
    except rcp.RcpError as error:
        raise refused(error) from None
    return {"session_id": session_id, "quorum": quorum, "label": rcp.QUORUM_LABELS[quorum]}


@router.get("/context/{patient_id}")
def frcp_context(patient_id: int, db: Db, document_id: int | None = None) -> dict[str, Any]:
    """The RCP description an FRCP header carries for this patient (RCP.01, RCP.04)."""
    document = db.get(Document, document_id) if document_id is not None else None
    context = rcp.frcp_context(db, patient_id, document)
    if context is None:
        raise not_found("not_registered", f"patient {patient_id} is registered to no RCP session")
    return context


@router.get("/{code}")
def rcp_detail(code: str, db: Db) -> dict[str, Any]:
    return _rcp_out(_rcp(db, code))


@router.post("/{code}/sessions", status_code=201)
def plan_session(code: str, body: SessionIn, db: Db) -> dict[str, Any]:
    item = _rcp(db, code)
    try:
        planned = rcp.plan_session(
            db,
            item,
            body.title,
            body.date,
            body.place,
            [p.model_dump() for p in body.participants],
            body.author,
            body.visio,
            body.visio_url,
        )
    except rcp.RcpError as error:
        raise refused(error) from None
    return rcp.describe_session(db, planned)
