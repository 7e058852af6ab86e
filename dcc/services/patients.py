"""Patients and their identity: creation, status changes with history and audit (2.3.2). A refused change raises
before anything is written, so the caller's transaction holds nothing half-done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dcc import audit, events
from dcc.db.models import IdentityStatusChange, Patient
from dcc.identity import ins
from dcc.identity.status import IdentityStatus, check_justificatif, check_transition


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


def _snapshot(patient: Patient) -> dict[str, object]:
    return {
        "identity_status": patient.identity_status,
        "ins_matricule": patient.ins_matricule,
        "ins_oid": patient.ins_oid,
        "justificatif": patient.justificatif,
    }


def create_patient(
    session: Session,
    traits: Traits,
    author: str,
    mode: str = "saisie",
    ins_matricule: str | None = None,
    ins_oid: str | None = None,
    event_fields: dict[str, object] | None = None,
) -> Patient:
    """A new identity: provisoire when typed by hand (2.3.2.2 cas 7); the matricule, when given, is checked."""
    traits.check()
    if mode not in ("saisie", "flux"):
        raise ValueError(f"mode {mode!r}: saisie or flux")
    matricule = ins.check(ins_matricule, ins_oid or "") if ins_matricule else None
    now = datetime.now(UTC)
    patient = Patient(
        nom_naissance=traits.nom_naissance.upper(),
        prenoms=" ".join(traits.prenoms),
        sexe=traits.sexe,
        date_naissance=traits.date_naissance,
        lieu_naissance=traits.lieu_naissance,
        ins_matricule=matricule,
        ins_oid=ins_oid if matricule else None,
        identity_status=IdentityStatus.PROVISOIRE.value,
        mode=mode,
        created_at=now,
    )
    session.add(patient)
    session.flush()
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
    return patient


class NoTrustClause(ValueError):
    """Validation and qualification need the clause de confiance (2.3.2.3); care goes on without it."""


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
) -> Patient:
    """One RNIV status change, historised and audited; a downgrade invalidates the matricule and its OID. Pass
    ``trust_clause`` from ``dcc.services.cgu.trust_clause`` for the acting professional."""
    current = IdentityStatus(patient.identity_status)
    if not downgrade and new in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE) and not trust_clause:
        raise NoTrustClause(
            f"{new}: no clause de confiance detected for {author} (CGU or convention missing)"
        )
    check_transition(current, new, downgrade)
    if justificatif is not None:
        check_justificatif(justificatif, patient.mode)
    if new is IdentityStatus.VALIDEE and not downgrade and not (justificatif or patient.justificatif):
        raise ValueError("validation needs a high-trust justificatif")
    before = _snapshot(patient)
    patient.identity_status = new.value
    if justificatif is not None:
        patient.justificatif = justificatif
    if downgrade:
        patient.ins_matricule, patient.ins_oid = None, None
    now = datetime.now(UTC)
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
    audit.record(
        session, author, "identity.status_changed", "patient", str(patient.id), before, _snapshot(patient)
    )
    session.flush()
    return patient
