"""Identity vigilance flows of the reference DCC (cahier des charges §2.3.1–2.3.2): qualification through the
téléservice INSi and the reception of identities by flow or by hand with their rapprochement (cases 1a–8b).

Why these rules:
- INSi decides: an identity becomes qualifiée from validée only on an INSi 00 whose traits agree with the local
  ones, with the clause de confiance (CGU and, for an establishment, the convention); provisoire becomes récupérée
  on such an answer (no clause needed: case 8b). Any other answer (01, 02, or 00 with other traits) is a KO: the
  identity falls back under the regional policy (``DCC_INS_DOWNGRADE_TO``) and loses its matricule and OID.
- A téléservice that does not answer (timeout, SOAP fault) is not a KO: nothing changes, the error is traced.
- Care is never blocked: nothing here raises for a non-qualified identity; refusals are traced events.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, settings
from dcc.db.models import Patient
from dcc.db.models_identity import IdentityInput
from dcc.identity import ins, matching
from dcc.identity.insi import InsiAnswer, InsiClient, InsiError, SearchTraits
from dcc.identity.status import IdentityStatus, check_justificatif, downgrade_target
from dcc.identity.traits import insi_mismatches
from dcc.services import cgu
from dcc.services.patients import Traits, change_status, checked_ins, create_patient, traits_of, typed_ins

faults.register(
    "ins_qualified_without_insi",
    "a validée identity is qualified with the INS it was given, without calling INSi",
    breaks=["INS/RAP.02"],
)
faults.register(
    "ins_no_downgrade_on_ko",
    "an INSi answer other than 00 leaves the identity's status and its matricule as they were",
    breaks=["INS.05"],
)
faults.register(
    "insi_result_partly_traced",
    "the DCC traces INSi's return code but not the matricule, OID and traits INSi returned",
    breaks=["INS.04"],
)

P, R, V, Q = (
    IdentityStatus.PROVISOIRE,
    IdentityStatus.RECUPEREE,
    IdentityStatus.VALIDEE,
    IdentityStatus.QUALIFIEE,
)


class IdentityFlowError(ValueError):
    """A request the identity flows refuse before writing; ``reason`` is stable (e.g. ``reception_not_pending``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Trust:
    """The clause de confiance of the acting professional (2.3.1): present, and why not."""

    present: bool
    user_kind: str | None = None
    convention_valid: bool | None = None
    why_not: str | None = None

    def fields(self) -> dict[str, object]:
        found: dict[str, object] = {"trust_clause": self.present}
        if self.user_kind is not None:
            found["user_kind"] = self.user_kind
        if self.convention_valid is not None:
            found["convention_valid"] = self.convention_valid
        return found


def trust_of(session: Session, user_id: str, user_kind: str, finess: str | None = None) -> Trust:
    """The clause for ``user_id`` now: the CGU in force (the latest published, else ``DCC_CGU_VERSION``) and, in an
    establishment, its convention."""
    version = cgu.in_force(session, os.environ.get("DCC_CGU_VERSION", "1").strip() or "1")
    present, why_not = cgu.trust_clause(session, user_id, version, user_kind, finess)
    convention = None
    if user_kind == "etablissement":
        convention = bool(finess) and cgu.convention_in_force(session, finess or "")
    return Trust(present, user_kind, convention, why_not)


def _trust(value: Trust | bool) -> Trust:
    return value if isinstance(value, Trust) else Trust(bool(value))


@dataclass
class InsiOutcome:
    """What one INSi step did: ``action`` is retrieved, qualified, confirmed, downgrade, kept, refused, error or
    skipped (fault)."""

    action: str
    status: str
    code: str | None = None
    request_id: str | None = None
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None


def _search(client: InsiClient, patient: Patient, carte_vitale: str | None) -> InsiAnswer:
    if carte_vitale:
        return client.search_by_carte_vitale(carte_vitale, patient.date_naissance)
    return client.search_by_traits(
        SearchTraits(
            patient.nom_naissance,
            patient.prenoms.split()[0],
            patient.sexe,
            patient.date_naissance,
            patient.lieu_naissance,
        )
    )


def qualify_with_insi(
    session: Session,
    patient: Patient,
    author: str,
    client: InsiClient,
    trust: Trust | bool = True,
    carte_vitale: str | None = None,
    case: str | None = None,
    known_ins: tuple[str, str] | None = None,
    policy: str | None = None,
) -> InsiOutcome:
    """Calls INSi for ``patient`` and applies the answer (see the module docstring). ``known_ins`` is an INS the
    identity came with (typed, or received by flow): INSi must return it (or have it in its history).

    provisoire → récupérée, validée → qualifiée on a matching 00; récupérée and qualifiée are verified (a matching
    00 confirms them). Without the clause, a validée identity is not sent to INSi: the refusal is traced."""
    trust = _trust(trust)
    policy = policy or settings.ins_downgrade_to()
    current = IdentityStatus(patient.identity_status)
    pid = str(patient.id)
    base: dict[str, object] = {"insi_checked": True, **trust.fields()}
    if case:
        base["case"] = case
    if current is V:  # a qualification: the clause de confiance decides first (2.3.2.3, CGU.04/05)
        events.emit(
            session, "identity.qualification_requested", patient_id=pid, author=author, **trust.fields()
        )
        if not trust.present:
            events.emit(
                session,
                "identity.qualification_refused",
                patient_id=pid,
                reason="no_trust_clause",
                detail=trust.why_not,
                author=author,
            )
            return InsiOutcome("refused", current.value, error="no_trust_clause")
        known = known_ins or typed_ins(session, patient)
        if faults.active("ins_qualified_without_insi") and known is not None:
            change_status(
                session,
                patient,
                Q,
                author,
                "qualification (INS reçu, sans appel INSi)",
                ins_value=known,
                event_fields={**base, "insi_checked": False},
            )
            return InsiOutcome("qualified", Q.value)
    try:
        answer = _search(client, patient, carte_vitale)
    except InsiError as error:
        events.emit(
            session,
            "identity.insi_result",
            patient_id=pid,
            operation="rechercherInsAvecCarteVitale" if carte_vitale else "rechercherInsAvecTraitsIdentite",
            code=None,
            action="error",
            error=error.reason,
            message=str(error),
            previous_status=current.value,
            request_id=error.request_id,
            author=author,
        )
        return InsiOutcome("error", current.value, request_id=error.request_id, error=error.reason)

    mismatches: list[str] = []
    identity = answer.identity
    if answer.code == "00" and identity is not None:
        mismatches = insi_mismatches(traits_of(patient), identity)
        known = known_ins or (
            (patient.ins_matricule, patient.ins_oid or "")
            if patient.ins_matricule
            else typed_ins(session, patient)
        )
        if known and known[0] != identity.matricule and known[0] not in {m for m, _ in identity.historique}:
            mismatches.append("matricule")
    ok = answer.code == "00" and identity is not None and not mismatches
    if ok:
        action = {P: "retrieved", V: "qualified", R: "confirmed", Q: "confirmed"}[current]
        target = {P: R, V: Q}.get(current)
    elif faults.active("ins_no_downgrade_on_ko"):
        action, target = "kept", None
    else:
        target = downgrade_target(current, policy, bool(patient.justificatif))
        action = "downgrade" if target is not None else "kept"
    returned: dict[str, object] = {
        "matricule": identity.matricule if identity else None,
        "oid": identity.oid if identity else None,
        "traits": identity.as_dict() if identity else None,
    }
    if faults.active("insi_result_partly_traced"):
        returned = {}
    events.emit(
        session,
        "identity.insi_result",
        patient_id=pid,
        operation=answer.operation,
        code=answer.code,
        libelle=answer.libelle,
        action=action,
        previous_status=current.value,
        request_id=answer.request_id,
        **returned,
        traits_match=(not mismatches) if identity else None,
        mismatches=mismatches,
        author=author,
    )
    if ok and identity is not None:
        new_traits = Traits(
            identity.nom_naissance,
            identity.prenoms,
            identity.sexe,
            identity.date_naissance,
            identity.lieu_naissance,
        )
        if target is not None:
            change_status(
                session,
                patient,
                target,
                author,
                f"INSi {answer.code} ({answer.operation})",
                ins_value=(identity.matricule, identity.oid),
                traits=new_traits,
                trust_clause=trust.present,
                event_fields=base,
            )
        elif patient.ins_matricule != identity.matricule:  # the INS moved on (INSHISTO): take the active one
            before = {"ins_matricule": patient.ins_matricule, "ins_oid": patient.ins_oid}
            patient.ins_matricule, patient.ins_oid = identity.matricule, identity.oid
            audit.record(
                session,
                author,
                "identity.ins_updated",
                "patient",
                pid,
                before,
                {"ins_matricule": identity.matricule, "ins_oid": identity.oid},
            )
    elif target is not None:
        reason = f"INSi {answer.code}" + (f" (traits: {', '.join(mismatches)})" if mismatches else "")
        change_status(
            session,
            patient,
            target,
            author,
            f"rétrogradation, politique régionale {policy}: {reason}",
            downgrade=True,
            event_fields=base,
        )
    return InsiOutcome(action, patient.identity_status, answer.code, answer.request_id, mismatches)


# ---------------------------------------------------------------------------------------------------------------
# Reception of identities (flow or typed) and rapprochement


@dataclass(frozen=True)
class IncomingIdentity:
    """An identity reaching the DCC. By flow: the sender's status (provisoire, validée, qualifiée), its INS when
    qualifiée, its justificatif when known, and its own id (``source_identity_id``). Typed by hand: traits and
    maybe a matricule to check."""

    mode: str
    traits: Traits
    status: str | None = None
    matricule: str | None = None
    oid: str | None = None
    justificatif: str | None = None
    source_identity_id: str | None = None
    source_system: str | None = None
    document_id: str | None = None


@dataclass
class Reception:
    input_id: int
    decision: matching.Decision
    patient: Patient | None
    insi: InsiOutcome | None = None
    matricule_ignored: bool = False


def _checked(incoming: IncomingIdentity) -> tuple[IncomingIdentity, bool]:
    """Refuses before writing what cannot be an identity input; drops a matricule a flow sent for a non-qualifiée
    identity (only a qualifiée identity transmits its INS, INS.08)."""
    incoming.traits.check()
    if incoming.mode not in ("flux", "saisie"):
        raise IdentityFlowError("bad_mode", f"mode {incoming.mode!r}: flux or saisie")
    status = incoming.status
    if incoming.mode == "flux" and status not in ("provisoire", "validee", "qualifiee"):
        raise IdentityFlowError(
            "bad_status", f"status {status!r}: provisoire, validee or qualifiee for a flow"
        )
    if incoming.mode == "saisie" and status is not None:
        raise IdentityFlowError(
            "bad_status", "an identity typed by hand has no status: it is created provisoire"
        )
    if incoming.justificatif is not None:
        check_justificatif(incoming.justificatif, incoming.mode, status)
    ignored = False
    if incoming.mode == "flux" and status == "qualifiee":
        if not incoming.matricule or not incoming.oid:
            raise IdentityFlowError(
                "ins_missing", "a qualifiée identity received by flow carries its INS and OID"
            )
        incoming = _replace(incoming, matricule=ins.check(incoming.matricule, incoming.oid))
    elif incoming.mode == "flux" and incoming.matricule:
        incoming, ignored = _replace(incoming, matricule=None, oid=None), True
    elif incoming.matricule:
        incoming = _replace(incoming, matricule=checked_ins(incoming.matricule, incoming.oid)[0])
    return incoming, ignored


def _replace(incoming: IncomingIdentity, **changes: Any) -> IncomingIdentity:
    return replace(incoming, **changes)


def _candidates(session: Session, incoming: IncomingIdentity) -> list[matching.Candidate]:
    """Local identities worth comparing: same birth date, or the same INS (a wrong date is still proposed)."""
    condition = Patient.date_naissance == incoming.traits.date_naissance
    if incoming.matricule:
        condition = or_(condition, Patient.ins_matricule == incoming.matricule)
    found = session.scalars(select(Patient).where(condition).order_by(Patient.id)).all()
    return [
        matching.Candidate(p.id, traits_of(p), IdentityStatus(p.identity_status), p.ins_matricule)
        for p in found
    ]


def _received(incoming: IncomingIdentity) -> matching.Received:
    return matching.Received(
        mode=incoming.mode,  # type: ignore[arg-type]
        traits=incoming.traits,
        status=IdentityStatus(incoming.status) if incoming.status else None,
        matricule=incoming.matricule,
        oid=incoming.oid,
        justificatif=incoming.justificatif,
    )


def receive_identity(
    session: Session,
    received: IncomingIdentity,
    author: str,
    trust: Trust | bool = True,
    client: InsiClient | None = None,
    choice: matching.Choice = None,
) -> Reception:
    """An identity received by flow or typed by hand: recorded, matched with the local identities (cases 1a–8b of
    ``dcc.identity.matching``) and carried out. Incoherent traits wait for a human (``resolve_reception``); with
    ``choice`` given, the human's answer is applied at once. ``client`` continues the qualification through INSi
    when the case says so (without it, the qualification waits)."""
    trust = _trust(trust)
    received, ignored = _checked(received)
    candidates = _candidates(session, received)
    decision = matching.decide(_received(received), candidates, trust.present, choice)
    now = datetime.now(UTC)
    record = IdentityInput(
        mode=received.mode,
        source_system=received.source_system,
        source_identity_id=received.source_identity_id,
        traits=received.traits.as_dict(),
        received_status=received.status,
        ins_matricule=received.matricule,
        ins_oid=received.oid if received.matricule else None,
        justificatif=received.justificatif,
        trust_clause=trust.present,
        document_id=received.document_id,
        state="pending",
        candidates=list(decision.candidates) or None,
        at=now,
        author=author,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        author,
        "identity.input_recorded",
        "identity_input",
        str(record.id),
        None,
        {"mode": record.mode, "received_status": record.received_status, "source": record.source_identity_id},
    )
    if decision.action == "ask":
        events.emit(
            session,
            "identity.rapprochement_requested",
            input_id=record.id,
            mode=received.mode,
            received_status=received.status,
            source_identity_id=received.source_identity_id,
            candidates=[str(c) for c in decision.candidates],
            document_id=received.document_id,
            author=author,
        )
        return Reception(record.id, decision, None, matricule_ignored=ignored)
    return _carry_out(session, record, received, decision, author, trust, client, ignored)


def resolve_reception(
    session: Session,
    input_id: int,
    choice: int | str,
    author: str,
    trust: Trust | bool = True,
    client: InsiClient | None = None,
) -> Reception:
    """A human's answer to a pending rapprochement: keep the local identity ``choice`` or ``"create"`` a new one."""
    trust = _trust(trust)
    record = session.get(IdentityInput, input_id)
    if record is None or record.state != "pending":
        raise IdentityFlowError(
            "reception_not_pending", f"identity input {input_id}: no pending rapprochement"
        )
    stored = record.traits
    received = IncomingIdentity(
        mode=record.mode,
        traits=Traits(
            stored["nom_naissance"],
            tuple(stored["prenoms"]),
            stored["sexe"],
            stored["date_naissance"],
            stored.get("lieu_naissance"),
        ),
        status=record.received_status,
        matricule=record.ins_matricule,
        oid=record.ins_oid,
        justificatif=record.justificatif,
        source_identity_id=record.source_identity_id,
        source_system=record.source_system,
        document_id=record.document_id,
    )
    value: matching.Choice = "create" if choice == "create" else int(choice)
    decision = matching.decide(_received(received), _candidates(session, received), trust.present, value)
    return _carry_out(session, record, received, decision, author, trust, client, False)


def _carry_out(
    session: Session,
    record: IdentityInput,
    received: IncomingIdentity,
    decision: matching.Decision,
    author: str,
    trust: Trust,
    client: InsiClient | None,
    ignored: bool,
) -> Reception:
    common: dict[str, object] = {
        "case": decision.case,
        "received_status": received.status,
        "source_identity_id": received.source_identity_id,
        "input_id": record.id,
        "trust_clause": trust.present,
    }
    kept = session.get(Patient, decision.patient_id) if decision.patient_id is not None else None
    local_status = kept.identity_status if kept is not None else None
    if received.mode == "saisie":
        events.emit(
            session,
            "identity.entered",
            known=decision.match in ("identique", "retenue"),
            patient_id=str(kept.id) if kept is not None else None,
            input_id=record.id,
            case=decision.case,
            author=author,
        )
    else:
        events.emit(
            session,
            "identity.received",
            match=decision.match,
            patient_id=str(kept.id) if kept is not None else None,
            mode=received.mode,
            document_id=received.document_id,
            matricule_ignored=ignored,
            author=author,
            **common,
        )
    if kept is not None:
        patient = kept
    else:
        assert decision.create_status is not None
        patient = create_patient(
            session,
            received.traits,
            author,
            mode=received.mode,
            ins_matricule=received.matricule,
            ins_oid=received.oid,
            status=decision.create_status,
            justificatif=decision.justificatif,
            received_status=received.status,
            event_fields={k: v for k, v in common.items() if k != "received_status"},
        )
    events.emit(
        session,
        "identity.matched",
        patient_id=str(patient.id),
        kept=decision.kept,
        match=decision.match,
        local_status=local_status,
        document_id=received.document_id,
        author=author,
        **common,
    )
    record.patient_id = patient.id  # a received or typed INS now belongs to this identity (INSi compares it)
    session.flush()
    for step in decision.raises:
        change_status(
            session,
            patient,
            step.to,
            author,
            f"rapprochement cas {decision.case}: identité reçue {received.status}",
            justificatif=step.justificatif if step.justificatif != patient.justificatif else None,
            trust_clause=trust.present,
            via=received.mode,
            received_status=received.status,
            event_fields={"case": decision.case, "insi_checked": False, **trust.fields()},
        )
    outcome = None
    if decision.insi and client is not None:
        known = (received.matricule, received.oid or "") if received.matricule else None
        outcome = qualify_with_insi(
            session, patient, author, client, trust, case=decision.case, known_ins=known
        )
    record.state, record.match, record.case = "decided", decision.match, decision.case
    record.decided_at, record.decided_by = datetime.now(UTC), author
    audit.record(
        session,
        author,
        "identity.input_decided",
        "identity_input",
        str(record.id),
        {"state": "pending"},
        {"state": "decided", "case": decision.case, "match": decision.match, "patient_id": patient.id},
    )
    session.flush()
    return Reception(record.id, decision, patient, outcome, ignored)
