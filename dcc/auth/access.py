"""Who may read or write a patient: the role must allow the action *and* the user must be in the patient's care
team, *and* the CGU in force must be accepted (CGU.01: no patient data before the clause de confiance). Every
granted access is audited and journaled (``patient.accessed``); a refusal is journaled (``patient.access_denied``)
and raises :class:`AccessDenied` with its reason.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults
from dcc.auth.config import AuthSettings
from dcc.auth.errors import AccessDenied
from dcc.auth.roles import CARE_TEAM_MANAGE, PATIENT_READ, PATIENT_WRITE, allows
from dcc.auth.sessions import CGU_NOT_REQUIRED_AT_LOGIN
from dcc.db.models import Patient
from dcc.db.models_auth import CareTeamMember, UserAccount
from dcc.services import cgu

ACTIONS = {"read": PATIENT_READ, "write": PATIENT_WRITE}
TEAM_ROLES = ("referent", "participant", "contextual")


def is_member(session: Session, patient_id: int, account: UserAccount) -> bool:
    return (
        session.scalars(
            select(CareTeamMember).where(
                CareTeamMember.patient_id == patient_id, CareTeamMember.account_id == account.id
            )
        ).first()
        is not None
    )


def add_member(
    session: Session, patient_id: int, account: UserAccount, team_role: str, actor: str
) -> CareTeamMember | None:
    """Puts ``account`` in the patient's care team (no-op when already there). Checks before writing."""
    if team_role not in TEAM_ROLES:
        raise ValueError(f"team_role {team_role!r}: one of {', '.join(TEAM_ROLES)}")
    if session.get(Patient, patient_id) is None:
        raise ValueError(f"patient {patient_id}: unknown")
    if is_member(session, patient_id, account):
        return None
    member = CareTeamMember(
        patient_id=patient_id,
        account_id=account.id,
        team_role=team_role,
        added_by=actor,
        added_at=datetime.now(UTC),
    )
    session.add(member)
    session.flush()
    after = {"user_id": account.username, "team_role": team_role}
    audit.record(session, actor, "care_team.member_added", "patient", str(patient_id), None, after)
    events.emit(
        session,
        "care_team.member_added",
        patient_id=str(patient_id),
        user_id=account.username,
        team_role=team_role,
        by=actor,
    )
    return member


def may_manage_team(session: Session, patient_id: int, actor: UserAccount) -> bool:
    """Administrators and 3C manage any care team; a médecin, the teams they belong to."""
    if not allows(actor.role, CARE_TEAM_MANAGE):
        return False
    return actor.role in ("administrateur", "3c") or is_member(session, patient_id, actor)


def check_patient_access(
    session: Session, settings: AuthSettings, account: UserAccount, patient_id: int, action: str = "read"
) -> tuple[bool, str | None, bool]:
    """(granted, reason refused, cgu_accepted) — reads only, writes nothing."""
    if action not in ACTIONS:
        raise ValueError(f"action {action!r}: read or write")
    version = cgu.in_force(session, settings.cgu_version)
    cgu_ok = not cgu.requirement(session, account.username, version).required
    if session.get(Patient, patient_id) is None:
        return False, "unknown_patient", cgu_ok
    if not allows(account.role, ACTIONS[action]):
        return False, "role_not_allowed", cgu_ok
    if not is_member(session, patient_id, account):
        return False, "not_in_care_team", cgu_ok
    if not cgu_ok and not faults.active(CGU_NOT_REQUIRED_AT_LOGIN):
        return False, "cgu_required", cgu_ok
    return True, None, cgu_ok


def record_denial(session: Session, account: UserAccount, patient_id: int, action: str, reason: str) -> None:
    events.emit(
        session,
        "patient.access_denied",
        patient_id=str(patient_id),
        user_id=account.username,
        action=action,
        reason=reason,
    )
    audit.record(
        session,
        account.username,
        "patient.access_denied",
        "patient",
        str(patient_id),
        None,
        {"action": action, "reason": reason},
    )


def access_patient(
    session: Session,
    settings: AuthSettings,
    account: UserAccount,
    patient_id: int,
    action: str = "read",
    method: str | None = None,
) -> Patient:
    """The patient, when ``account`` may ``action`` it: audited (``patient.accessed``). A refusal raises
    :class:`AccessDenied` *before* writing: the caller records it (:func:`record_denial`) in its own transaction,
    as the HTTP layer does, since the refused request's transaction is rolled back."""
    granted, reason, cgu_ok = check_patient_access(session, settings, account, patient_id, action)
    if not granted:
        raise AccessDenied(reason or "denied", f"{account.username} may not {action} patient {patient_id}")
    events.emit(
        session,
        "patient.accessed",
        patient_id=str(patient_id),
        user_id=account.username,
        role=account.role,
        action=action,
        method=method,
        cgu_accepted=cgu_ok,
    )
    audit.record(session, account.username, f"patient.{action}", "patient", str(patient_id), None, None)
    patient = session.get(Patient, patient_id)
    assert patient is not None
    return patient
