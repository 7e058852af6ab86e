"""Test-driver operations of identity vigilance (2.3.2): identities typed by hand or received by flow and their
rapprochement (cases 1a–8b), a typed INS matricule, a call to INSi. The INSi is the one ``DCC_INSI_URL`` names (the
run points it at its simulator); without it, care goes on and the qualification waits."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dcc import settings
from dcc.driver import Driver, NotFound, operation
from dcc.identity import insi, matching
from dcc.services import identity as flows
from dcc.services import patients
from dcc.services.patients import Traits

Choice = int | Literal["create"] | None


class TraitsIn(BaseModel):
    nom_naissance: str = Field(min_length=1, max_length=100)
    prenoms: list[str] = Field(min_length=1)
    sexe: Literal["M", "F"]
    date_naissance: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    lieu_naissance: str | None = Field(default=None, pattern=r"^[0-9AB]{5}$")


class Acting(BaseModel):
    author: str = Field(min_length=1)
    user_kind: Literal["liberal", "etablissement"] = "liberal"
    finess: str | None = Field(default=None, pattern=r"^\d{9}$")


class EnteredIn(Acting):
    traits: TraitsIn
    ins_matricule: str | None = Field(default=None, max_length=20)
    ins_oid: str | None = None
    choice: Choice = None


class ReceivedIn(Acting):
    traits: TraitsIn
    received_status: Literal["provisoire", "validee", "qualifiee"]
    source_identity_id: str = Field(min_length=1, max_length=120)
    ins_matricule: str | None = Field(default=None, max_length=20)
    ins_oid: str | None = None
    justificatif: str | None = None
    source_system: str | None = None
    document_id: str | None = None
    choice: Choice = None


class DecisionIn(Acting):
    choice: int | Literal["create"]


class InsIn(BaseModel):
    matricule: str = Field(min_length=1, max_length=20)
    oid: str = Field(min_length=1)
    author: str = Field(min_length=1)


class InsiIn(Acting):
    carte_vitale: str | None = Field(default=None, pattern=r"^\d{13}$")


def _client() -> insi.InsiClient | None:
    try:
        return insi.from_settings()
    except insi.InsiError:
        return None


def _traits(data: dict[str, Any]) -> Traits:
    prenoms = data["prenoms"]
    return Traits(
        str(data["nom_naissance"]),
        tuple(prenoms.split() if isinstance(prenoms, str) else prenoms),
        str(data["sexe"]),
        str(data["date_naissance"]),
        data.get("lieu_naissance"),
    )


def _outcome(outcome: flows.InsiOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {
        "action": outcome.action,
        "code": outcome.code,
        "request_id": outcome.request_id,
        "mismatches": outcome.mismatches,
        "error": outcome.error,
    }


def _view(reception: flows.Reception) -> dict[str, Any]:
    decision = reception.decision
    return {
        "input_id": str(reception.input_id),
        "case": decision.case,
        "match": decision.match,
        "action": decision.action,
        "candidates": [str(c) for c in decision.candidates],
        "patient": Driver._patient_view(reception.patient) if reception.patient is not None else None,
        "insi": _outcome(reception.insi),
    }


def _choice(choice: int | str | None) -> matching.Choice:
    return int(choice) if isinstance(choice, str) and choice.isdigit() else choice  # type: ignore[return-value]


def _receive(
    session: Session,
    incoming: flows.IncomingIdentity,
    author: str,
    choice: int | str | None,
    user_kind: str,
    finess: str | None,
) -> dict[str, Any]:
    trust = flows.trust_of(session, author, user_kind, finess)
    return _view(flows.receive_identity(session, incoming, author, trust, _client(), choice=_choice(choice)))


def _refused(session: Session, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "identity.reception_refused", {"source_identity_id": arguments.get("source_identity_id")}


@operation("identity_enter", "POST", "/driver/identities/entered", EnteredIn, _refused)
def identity_enter(
    session: Session,
    traits: dict[str, Any],
    author: str,
    ins_matricule: str | None = None,
    ins_oid: str | None = None,
    choice: int | str | None = None,
    user_kind: str = "liberal",
    finess: str | None = None,
) -> dict[str, Any]:
    """Type an identity by hand: a known one is reused (cases 6a–6d), an unknown one created provisoire (7)."""
    incoming = flows.IncomingIdentity("saisie", _traits(traits), None, ins_matricule, ins_oid)
    return _receive(session, incoming, author, choice, user_kind, finess)


@operation("identity_receive", "POST", "/driver/identities/received", ReceivedIn, _refused)
def identity_receive(
    session: Session,
    traits: dict[str, Any],
    author: str,
    received_status: str,
    source_identity_id: str,
    ins_matricule: str | None = None,
    ins_oid: str | None = None,
    justificatif: str | None = None,
    source_system: str | None = None,
    document_id: str | None = None,
    choice: int | str | None = None,
    user_kind: str = "liberal",
    finess: str | None = None,
) -> dict[str, Any]:
    """Receive an identity by interoperability flow (cases 1a–5e; 8a–8b without the clause de confiance)."""
    incoming = flows.IncomingIdentity(
        "flux",
        _traits(traits),
        received_status,
        ins_matricule,
        ins_oid,
        justificatif,
        source_identity_id,
        source_system,
        document_id,
    )
    return _receive(session, incoming, author, choice, user_kind, finess)


@operation("identity_decide", "POST", "/driver/identities/received/{input_id}/decision", DecisionIn)
def identity_decide(
    session: Session,
    input_id: str,
    choice: int | str,
    author: str,
    user_kind: str = "liberal",
    finess: str | None = None,
) -> dict[str, Any]:
    """Answer a pending rapprochement: keep a proposed identity (its patient id) or « create » a new one."""
    if not str(input_id).isdigit():
        raise NotFound(f"identity input {input_id!r} does not exist")
    trust = flows.trust_of(session, author, user_kind, finess)
    value = "create" if choice == "create" else int(choice)
    return _view(flows.resolve_reception(session, int(input_id), value, author, trust, _client()))


def _ins_refused(session: Session, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "identity.ins_entered", {
        "patient_id": str(arguments.get("patient_id")),
        "key_valid": False,
        "accepted": False,
    }


@operation("identity_enter_ins", "POST", "/driver/patients/{patient_id}/ins", InsIn, _ins_refused)
def identity_enter_ins(
    session: Session, patient_id: str, matricule: str, oid: str, author: str
) -> dict[str, Any]:
    """Type an INS matricule for a patient: a wrong key is refused and recorded as refused (INS.01)."""
    patient = Driver._patient(session, patient_id)
    patients.enter_ins(session, patient, matricule, oid, author)
    return Driver._patient_view(patient)


@operation("identity_insi", "POST", "/driver/patients/{patient_id}/insi", InsiIn)
def identity_insi(
    session: Session,
    patient_id: str,
    author: str,
    carte_vitale: str | None = None,
    user_kind: str = "liberal",
    finess: str | None = None,
) -> dict[str, Any]:
    """Call INSi for a patient (traits, or carte Vitale) and apply its answer: retrieval, qualification, downgrade."""
    patient = Driver._patient(session, patient_id)
    client = _client()
    if client is None:
        raise flows.IdentityFlowError("insi_not_configured", "no INSi: set DCC_INSI_URL")
    trust = flows.trust_of(session, author, user_kind, finess)
    outcome = flows.qualify_with_insi(session, patient, author, client, trust, carte_vitale)
    return {**Driver._patient_view(patient), "insi": _outcome(outcome)}


@operation("identity_policy", "GET", "/driver/identities/policy")
def identity_policy(session: Session) -> dict[str, Any]:
    """The regional identity policy in force (2.3.2.3): the status an INSi answer other than 00 falls back to
    (``DCC_INS_DOWNGRADE_TO``), and whether INSi is configured."""
    return {"ins_downgrade_to": settings.ins_downgrade_to(), "insi_configured": _client() is not None}
