"""Patients and their identity: creation, status changes with history and audit (2.3.2). A refused change raises
before anything is written, so the caller's transaction holds nothing half-done.

The patient holds an INS matricule and its OID only while récupérée or qualifiée (NATIONAL-SERVICES §1): a
matricule typed by hand is key-checked and kept as an identity input (``dcc.db.models_identity.IdentityInput``)
until INSi confirms it; a downgrade invalidates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults
from dcc.db.models import IdentityStatusChange, Patient
from dcc.db.models_identity import IdentityInput
from dcc.identity import ins
from dcc.identity.status import (
    WITH_INS,
    IdentityRuleError,
    IdentityStatus,
    check_justificatif,
    check_transition,
)

faults.register(
    "identity_status_not_historised",
    "an identity status change is applied without its history row (previous status, date, author) nor its audit "
    "entry (the event still says what changed)",
    breaks=["INS.03"],
)
faults.register(
    "ins_key_not_checked",
    "a typed INS matricule is recorded without checking its key",
    breaks=["INS.01"],
)
faults.register(
    "typed_ins_trusted_at_creation",
    "an unknown identity typed at the identity desk with its INS matricule (case 7) is created récupérée on the "
    "typed INS, not provisoire",
    breaks=["INS.10"],
)

QUALIFICATION_WITHOUT_TRUST_CLAUSE = faults.register(
    "qualification_without_trust_clause",
    "an identity is validated or qualified although no clause de confiance (CGU, establishment convention) is "
    "detected for the professional",
    ["CGU.04", "CGU.05"],
).name


@dataclass(frozen=True)
class Traits:
    nom_naissance: str
    prenoms: tuple[str, ...]
    sexe: str
    date_naissance: str
    lieu_naissance: str | None = None

    def check(self) -> None:
        if self.sexe not in ("M", "F"):
            raise ValueError(f"sexe {self.sexe!r}: M or F")
        if not self.nom_naissance.strip() or not self.prenoms:
            raise ValueError("nom de naissance and at least one prénom are required")
        try:
            datetime.strptime(self.date_naissance, "%Y-%m-%d")
        except ValueError:
            raise ValueError(f"date de naissance {self.date_naissance!r}: YYYY-MM-DD expected") from None

    def as_dict(self) -> dict[str, object]:
        return {
            "nom_naissance": self.nom_naissance,
            "prenoms": list(self.prenoms),
            "sexe": self.sexe,
            "date_naissance": self.date_naissance,
            "lieu_naissance": self.lieu_naissance,
        }


def traits_of(patient: Patient) -> Traits:
    return Traits(
        patient.nom_naissance,
        tuple(patient.prenoms.split()),
        patient.sexe,
        patient.date_naissance,
        patient.lieu_naissance,
    )


def _snapshot(patient: Patient) -> dict[str, object]:
    return {
        "identity_status": patient.identity_status,
        "ins_matricule": patient.ins_matricule,
        "ins_oid": patient.ins_oid,
        "justificatif": patient.justificatif,
        "nom_naissance": patient.nom_naissance,
        "prenoms": patient.prenoms,
        "lieu_naissance": patient.lieu_naissance,
    }


def checked_ins(matricule: str, oid: str | None) -> tuple[str, bool]:
    """(normalised matricule, key valid) or InsError; with the fault ``ins_key_not_checked`` a wrong key passes."""
    try:
        return ins.check(matricule, oid or ""), True
    except ins.InsError:
        value = matricule.replace(" ", "").upper()
        if faults.active("ins_key_not_checked") and len(value) == 15 and (oid or "") in ins.INS_OIDS:
            return value, False
        raise


def _typed_input(
    session: Session, patient: Patient, matricule: str, oid: str | None, author: str, now: datetime
) -> IdentityInput:
    record = IdentityInput(
        mode="saisie",
        traits=traits_of(patient).as_dict(),
        ins_matricule=matricule,
        ins_oid=oid,
        trust_clause=False,
        state="decided",
        patient_id=patient.id,
        at=now,
        author=author,
    )
    session.add(record)
    return record


def create_patient(
    session: Session,
    traits: Traits,
    author: str,
    mode: str = "saisie",
    ins_matricule: str | None = None,
    ins_oid: str | None = None,
    event_fields: dict[str, object] | None = None,
    status: IdentityStatus = IdentityStatus.PROVISOIRE,
    justificatif: str | None = None,
    received_status: str | None = None,
) -> Patient:
    """A new identity. Typed by hand it is always provisoire (2.3.2.2 cas 7) and a typed matricule only waits for
    INSi; received by flow it may be created at the received status (2.3.2.1 cases 2b, 3e, 4a–4c), qualifiée with
    the received INS."""
    traits.check()
    if mode not in ("saisie", "flux"):
        raise ValueError(f"mode {mode!r}: saisie or flux")
    status = IdentityStatus(status)
    typed_unknown = mode == "saisie" and bool(ins_matricule) and (event_fields or {}).get("case") == "7"
    trusted = typed_unknown and faults.active("typed_ins_trusted_at_creation")
    if trusted:
        status = IdentityStatus.RECUPEREE
    elif mode == "saisie" and status is not IdentityStatus.PROVISOIRE:
        raise IdentityRuleError("an identity typed by hand is created provisoire (2.3.2.2 cas 7)")
    if status is IdentityStatus.RECUPEREE and not trusted:
        raise IdentityRuleError("récupérée is reached through INSi, never at creation")
    if justificatif is not None:
        check_justificatif(justificatif, mode, received_status)
    if status in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE) and not justificatif:
        raise IdentityRuleError(f"an identity created {status} needs its high-trust justificatif")
    key_valid = True
    matricule = None
    if ins_matricule:
        matricule, key_valid = checked_ins(ins_matricule, ins_oid)
    if status is IdentityStatus.QUALIFIEE and not matricule:
        raise IdentityRuleError("an identity created qualifiée needs its INS matricule and OID")
    holds_ins = status in WITH_INS
    now = datetime.now(UTC)
    patient = Patient(
        nom_naissance=traits.nom_naissance.upper(),
        prenoms=" ".join(traits.prenoms),
        sexe=traits.sexe,
        date_naissance=traits.date_naissance,
        lieu_naissance=traits.lieu_naissance,
        ins_matricule=matricule if holds_ins else None,
        ins_oid=ins_oid if matricule and holds_ins else None,
        identity_status=status.value,
        justificatif=justificatif,
        mode=mode,
        created_at=now,
    )
    session.add(patient)
    session.flush()
    if matricule and not holds_ins:
        _typed_input(session, patient, matricule, ins_oid, author, now)
    if not faults.active("identity_status_not_historised"):
        session.add(
            IdentityStatusChange(
                patient_id=patient.id,
                previous_status=None,
                new_status=patient.identity_status,
                at=now,
                author=author,
                reason=f"création ({mode})",
            )
        )
    events.emit(
        session,
        "patient.created",
        patient_id=str(patient.id),
        mode=mode,
        identity_status=patient.identity_status,
        author=author,
        **(event_fields or {}),
    )
    audit.record(session, author, "patient.created", "patient", str(patient.id), None, _snapshot(patient))
    if matricule and mode == "saisie":
        events.emit(
            session, "identity.ins_entered", patient_id=str(patient.id), key_valid=key_valid, accepted=True
        )
    if justificatif is not None:
        events.emit(
            session,
            "identity.justificatif_set",
            patient_id=str(patient.id),
            justificatif=justificatif,
            mode=mode,
            received_status=received_status,
        )
    session.flush()
    return patient


def enter_ins(session: Session, patient: Patient, matricule: str, oid: str, author: str) -> IdentityInput:
    """A matricule typed for an existing patient (INS.01): key-checked (InsError before writing), then kept until
    INSi confirms it; the patient's own INS does not change."""
    value, key_valid = checked_ins(matricule, oid)
    record = _typed_input(session, patient, value, oid, author, datetime.now(UTC))
    session.flush()
    audit.record(
        session, author, "identity.ins_entered", "patient", str(patient.id), None, {"ins_matricule": value}
    )
    events.emit(
        session, "identity.ins_entered", patient_id=str(patient.id), key_valid=key_valid, accepted=True
    )
    return record


def typed_ins(session: Session, patient: Patient) -> tuple[str, str | None] | None:
    """The last matricule typed for this patient, waiting for INSi."""
    record = session.scalars(
        select(IdentityInput)
        .where(IdentityInput.patient_id == patient.id, IdentityInput.ins_matricule.is_not(None))
        .order_by(IdentityInput.id.desc())
        .limit(1)
    ).first()
    return (record.ins_matricule, record.ins_oid) if record and record.ins_matricule else None


class NoTrustClause(ValueError):
    """Validation and qualification need the clause de confiance (2.3.2.3); care goes on without it."""

    reason = "no_trust_clause"


def change_status(
    session: Session,
    patient: Patient,
    new: IdentityStatus,
    author: str,
    reason: str,
    justificatif: str | None = None,
    downgrade: bool = False,
    trust_clause: bool = True,
    event_fields: dict[str, object] | None = None,
    ins_value: tuple[str, str] | None = None,
    via: str | None = None,
    received_status: str | None = None,
    traits: Traits | None = None,
) -> Patient:
    """One RNIV status change, historised and audited; a downgrade invalidates the matricule and its OID. Pass
    ``trust_clause`` from ``dcc.services.cgu.trust_clause`` for the acting professional.

    ``ins_value`` is the (matricule, OID) INSi gave (needed for récupérée and qualifiée unless the patient already
    holds one or a typed one waits); ``via`` the mode of the input that brings ``justificatif`` (default: the
    patient's); ``traits`` the INSi traits the identity takes (rapatriement)."""
    new = IdentityStatus(new)
    current = IdentityStatus(patient.identity_status)
    if (
        not downgrade
        and new in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE)
        and not trust_clause
        and not faults.active(QUALIFICATION_WITHOUT_TRUST_CLAUSE)
    ):
        raise NoTrustClause(
            f"{new}: no clause de confiance detected for {author} (CGU or convention missing)"
        )
    check_transition(current, new, downgrade)
    if justificatif is not None:
        check_justificatif(justificatif, via or patient.mode, received_status)
    if (
        new in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE)
        and not downgrade
        and not (justificatif or patient.justificatif)
    ):
        raise IdentityRuleError(f"{new} needs a high-trust justificatif")
    matricule = None
    if new in WITH_INS and not downgrade:
        if ins_value is not None:
            matricule = (ins.check(*ins_value), ins_value[1])
        elif patient.ins_matricule:
            matricule = (patient.ins_matricule, patient.ins_oid)
        else:
            matricule = typed_ins(session, patient)
        if matricule is None:
            raise IdentityRuleError(f"{new} needs the INS matricule and OID given by INSi")
    if traits is not None:
        traits.check()
    before = _snapshot(patient)
    patient.identity_status = new.value
    if justificatif is not None:
        patient.justificatif = justificatif
    if matricule is not None:
        patient.ins_matricule, patient.ins_oid = matricule
    if downgrade:
        patient.ins_matricule, patient.ins_oid = None, None
    if traits is not None:
        patient.nom_naissance = traits.nom_naissance.upper()
        patient.prenoms = " ".join(traits.prenoms)
        patient.lieu_naissance = traits.lieu_naissance or patient.lieu_naissance
    now = datetime.now(UTC)
    historised = not faults.active("identity_status_not_historised")
    if historised:
        session.add(
            IdentityStatusChange(
                patient_id=patient.id,
                previous_status=current.value,
                new_status=new.value,
                at=now,
                author=author,
                reason=reason,
            )
        )
    events.emit(
        session,
        "identity.status_changed",
        patient_id=str(patient.id),
        author=author,
        reason=reason,
        justificatif=patient.justificatif,
        at=now,
        ins_invalidated=downgrade and before["ins_matricule"] is not None,
        **{"from": current.value, "to": new.value},
        **(event_fields or {}),
    )
    if historised:
        audit.record(
            session, author, "identity.status_changed", "patient", str(patient.id), before, _snapshot(patient)
        )
    if justificatif is not None:
        events.emit(
            session,
            "identity.justificatif_set",
            patient_id=str(patient.id),
            justificatif=justificatif,
            mode=via or patient.mode,
            received_status=received_status,
        )
    session.flush()
    return patient
