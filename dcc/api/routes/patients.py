"""HTTP endpoints of identity vigilance (cahier des charges §2.3.2): patients typed by hand, identities received by
flow and their rapprochement, status changes, qualification through INSi.

Input is checked by the pydantic models (422 naming the field); what the RNIV refuses is 409 with a stable
``reason``; nothing is written by a refused request but the trace of the refusal that the rules read (a wrong INS
key: ``identity.ins_entered`` with ``accepted: false``; no clause de confiance: ``identity.qualification_refused``),
recorded in its own transaction. The acting professional (``actor``) is given in the body until authentication
routes supply it; their clause de confiance is looked up from the CGU and conventions.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dcc import events
from dcc.api.deps import session as db_session
from dcc.db.models import Patient
from dcc.identity import insi as insi_client
from dcc.identity.ins import InsError
from dcc.identity.matching import MatchingError
from dcc.identity.status import IdentityRuleError, IdentityStatus, JustificatifError
from dcc.services import identity as flows
from dcc.services.patients import NoTrustClause, Traits, change_status, enter_ins

router = APIRouter(tags=["identité"])
Session_ = Annotated[Session, Depends(db_session)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TraitsIn(Strict):
    nom_naissance: str = Field(min_length=1, max_length=100)
    prenoms: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=1, max_length=10)
    sexe: Literal["M", "F"]
    date_naissance: date
    lieu_naissance: str | None = Field(default=None, pattern=r"^(\d{5}|2[AB]\d{3})$")

    def traits(self) -> Traits:
        return Traits(
            self.nom_naissance,
            tuple(self.prenoms),
            self.sexe,
            self.date_naissance.isoformat(),
            self.lieu_naissance,
        )


class Actor(Strict):
    user_id: str = Field(min_length=1, max_length=64)
    user_kind: Literal["liberal", "etablissement"]
    finess: str | None = Field(default=None, pattern=r"^\d{9}$")


class PatientIn(Strict):
    """An identity typed by hand (2.3.2.2): the DCC reuses a known one (cases 6a–6d) or creates it provisoire (7)."""

    actor: Actor
    traits: TraitsIn
    mode: Literal["saisie"] = "saisie"
    ins_matricule: str | None = Field(default=None, max_length=20)
    ins_oid: str | None = Field(default=None, max_length=64)
    justificatif: str | None = Field(default=None, max_length=40)
    choice: int | Literal["create"] | None = None


class ReceivedIn(Strict):
    """An identity received by interoperability flow (2.3.2.1)."""

    actor: Actor
    traits: TraitsIn
    received_status: Literal["provisoire", "validee", "qualifiee"]
    ins_matricule: str | None = Field(default=None, max_length=20)
    ins_oid: str | None = Field(default=None, max_length=64)
    justificatif: str | None = Field(default=None, max_length=40)
    source_identity_id: str = Field(min_length=1, max_length=120)
    source_system: str | None = Field(default=None, max_length=120)
    document_id: str | None = Field(default=None, max_length=200)
    choice: int | Literal["create"] | None = None


class DecisionIn(Strict):
    actor: Actor
    choice: int | Literal["create"]


class StatusIn(Strict):
    actor: Actor
    to: Literal["provisoire", "recuperee", "validee", "qualifiee"]
    reason: str = Field(min_length=1, max_length=500)
    justificatif: str | None = Field(default=None, max_length=40)
    downgrade: bool = False


class InsIn(Strict):
    actor: Actor
    matricule: str = Field(min_length=1, max_length=20)
    oid: str = Field(min_length=1, max_length=64)


class InsiIn(Strict):
    actor: Actor
    carte_vitale: str | None = Field(default=None, pattern=r"^\d{13}$")


def _field_error(status: int, field: str, error: Exception, kind: str) -> HTTPException:
    return HTTPException(status, [{"loc": ["body", field], "msg": str(error), "type": kind}])


def _conflict(reason: str, error: Exception) -> HTTPException:
    return HTTPException(409, {"reason": reason, "message": str(error)})


def _record(request: Request, db: Session, type: str, **fields: Any) -> None:
    """The trace of a refusal, in its own transaction (the request's own is rolled back first, so it holds no lock
    and nothing of it survives)."""
    db.rollback()
    with request.app.state.session_factory() as own:
        events.emit(own, type, **fields)
        own.commit()


def _client(request: Request, required: bool) -> insi_client.InsiClient | None:
    client = getattr(request.app.state, "insi_client", None)
    if client is not None:
        return client
    try:
        return insi_client.from_settings()
    except insi_client.InsiError as error:
        if required:
            raise HTTPException(503, {"reason": error.reason, "message": str(error)}) from None
        return None


def _patient(db: Session, patient_id: int) -> Patient:
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise HTTPException(
            404, {"reason": "patient_not_found", "message": f"patient {patient_id} not found"}
        )
    return patient


def patient_out(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "nom_naissance": patient.nom_naissance,
        "prenoms": patient.prenoms.split(),
        "sexe": patient.sexe,
        "date_naissance": patient.date_naissance,
        "lieu_naissance": patient.lieu_naissance,
        "identity_status": patient.identity_status,
        "mode": patient.mode,
        "justificatif": patient.justificatif,
        "ins": {"matricule": patient.ins_matricule, "oid": patient.ins_oid}
        if patient.ins_matricule
        else None,
        "history": [
            {
                "previous_status": h.previous_status,
                "new_status": h.new_status,
                "at": h.at.isoformat(),
                "author": h.author,
                "reason": h.reason,
            }
            for h in patient.history
        ],
    }


def _outcome(outcome: flows.InsiOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {
        "action": outcome.action,
        "status": outcome.status,
        "code": outcome.code,
        "request_id": outcome.request_id,
        "mismatches": outcome.mismatches,
        "error": outcome.error,
    }


def _reception(db: Session, reception: flows.Reception) -> JSONResponse:
    decision = reception.decision
    if reception.patient is not None:
        db.refresh(reception.patient, ["history"])
    body = {
        "input_id": reception.input_id,
        "case": decision.case,
        "match": decision.match,
        "action": decision.action,
        "candidates": list(decision.candidates),
        "patient": patient_out(reception.patient) if reception.patient is not None else None,
        "insi": _outcome(reception.insi),
        "matricule_ignored": reception.matricule_ignored,
    }
    return JSONResponse(body, status_code=202 if decision.action == "ask" else 200)


def _receive(request: Request, db: Session, body: PatientIn | ReceivedIn, incoming: flows.IncomingIdentity):
    trust = flows.trust_of(db, body.actor.user_id, body.actor.user_kind, body.actor.finess)
    try:
        reception = flows.receive_identity(
            db, incoming, body.actor.user_id, trust, _client(request, required=False), choice=body.choice
        )
    except InsError as error:
        _record(
            request,
            db,
            "identity.ins_entered",
            patient_id=None,
            key_valid=False,
            accepted=False,
            error=str(error),
        )
        raise _field_error(422, "ins_matricule", error, "value_error.ins") from None
    except JustificatifError as error:
        raise _field_error(422, "justificatif", error, "value_error.justificatif") from None
    except flows.IdentityFlowError as error:
        raise _field_error(422, "received_status", error, f"value_error.{error.reason}") from None
    except MatchingError as error:
        raise _field_error(422, "choice", error, "value_error.choice") from None
    return _reception(db, reception)


@router.post("/patients")
def create(request: Request, body: PatientIn, db: Session_) -> JSONResponse:
    """An identity typed by hand: reuses a known identity (6a–6d), creates an unknown one provisoire (7), or asks
    for a rapprochement (202) when close identities exist."""
    incoming = flows.IncomingIdentity(
        "saisie", body.traits.traits(), None, body.ins_matricule, body.ins_oid, body.justificatif
    )
    return _receive(request, db, body, incoming)


@router.post("/identities/received")
def receive(request: Request, body: ReceivedIn, db: Session_) -> JSONResponse:
    """An identity received by interoperability flow: cases 1a–5e (8a–8b without the clause de confiance)."""
    incoming = flows.IncomingIdentity(
        "flux",
        body.traits.traits(),
        body.received_status,
        body.ins_matricule,
        body.ins_oid,
        body.justificatif,
        body.source_identity_id,
        body.source_system,
        body.document_id,
    )
    return _receive(request, db, body, incoming)


@router.post("/identities/received/{input_id}/decision")
def decide(request: Request, input_id: int, body: DecisionIn, db: Session_) -> JSONResponse:
    """A human's answer to a pending rapprochement: keep a proposed identity, or create a new one."""
    trust = flows.trust_of(db, body.actor.user_id, body.actor.user_kind, body.actor.finess)
    try:
        reception = flows.resolve_reception(
            db, input_id, body.choice, body.actor.user_id, trust, _client(request, required=False)
        )
    except flows.IdentityFlowError as error:
        raise _conflict(error.reason, error) from None
    except MatchingError as error:
        raise _field_error(422, "choice", error, "value_error.choice") from None
    return _reception(db, reception)


@router.get("/patients/{patient_id}")
def read(patient_id: int, db: Session_) -> dict[str, Any]:
    return patient_out(_patient(db, patient_id))


@router.post("/patients/{patient_id}/status")
def set_status(request: Request, patient_id: int, body: StatusIn, db: Session_) -> dict[str, Any]:
    """A status change by a professional (validation on a high-trust document, récupérée → qualifiée, downgrade)."""
    patient = _patient(db, patient_id)
    by_insi = {("provisoire", "recuperee"), ("validee", "qualifiee")}
    if not body.downgrade and (patient.identity_status, body.to) in by_insi:
        raise HTTPException(
            409,
            {
                "reason": "insi_required",
                "message": f"{patient.identity_status} → {body.to} is INSi's answer: POST /patients/{patient_id}/insi",
            },
        )
    trust = flows.trust_of(db, body.actor.user_id, body.actor.user_kind, body.actor.finess)
    try:
        change_status(
            db,
            patient,
            IdentityStatus(body.to),
            body.actor.user_id,
            body.reason,
            justificatif=body.justificatif,
            downgrade=body.downgrade,
            trust_clause=trust.present,
            via="saisie",
            event_fields={
                "insi_checked": False,
                **{k: v for k, v in trust.fields().items() if k != "trust_clause"},
            },
        )
    except NoTrustClause as error:
        fields = {"patient_id": str(patient_id), "author": body.actor.user_id}
        _record(request, db, "identity.qualification_requested", **fields, **trust.fields())
        _record(
            request,
            db,
            "identity.qualification_refused",
            **fields,
            reason="no_trust_clause",
            detail=trust.why_not,
        )
        raise _conflict("no_trust_clause", error) from None
    except JustificatifError as error:
        if body.justificatif == "tiers_de_confiance":
            _record(
                request,
                db,
                "identity.qualification_refused",
                patient_id=str(patient_id),
                reason="tiers_de_confiance_manual",
                author=body.actor.user_id,
            )
        raise _field_error(422, "justificatif", error, "value_error.justificatif") from None
    except IdentityRuleError as error:
        raise _conflict("transition_not_allowed", error) from None
    db.flush()
    db.refresh(patient, ["history"])
    return patient_out(patient)


@router.put("/patients/{patient_id}/ins")
def type_ins(request: Request, patient_id: int, body: InsIn, db: Session_) -> dict[str, Any]:
    """A matricule typed for a patient: its key is checked (422 and nothing recorded when wrong); it waits for INSi."""
    patient = _patient(db, patient_id)
    try:
        enter_ins(db, patient, body.matricule, body.oid, body.actor.user_id)
    except InsError as error:
        _record(
            request,
            db,
            "identity.ins_entered",
            patient_id=str(patient_id),
            key_valid=False,
            accepted=False,
            error=str(error),
        )
        field = "oid" if "OID" in str(error) else "matricule"
        raise _field_error(422, field, error, "value_error.ins") from None
    return patient_out(patient)


@router.post("/patients/{patient_id}/insi")
def qualify(request: Request, patient_id: int, body: InsiIn, db: Session_) -> dict[str, Any]:
    """Calls INSi for the patient: retrieval, qualification or verification, downgrade on a KO (see
    ``dcc.services.identity.qualify_with_insi``). A téléservice failure answers 200 with ``action: error``: it is
    traced and changes nothing."""
    patient = _patient(db, patient_id)
    client = _client(request, required=True)
    assert client is not None
    trust = flows.trust_of(db, body.actor.user_id, body.actor.user_kind, body.actor.finess)
    outcome = flows.qualify_with_insi(
        db, patient, body.actor.user_id, client, trust, carte_vitale=body.carte_vitale
    )
    db.flush()
    db.refresh(patient, ["history"])
    return {"insi": _outcome(outcome), "patient": patient_out(patient)}
