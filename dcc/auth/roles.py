"""Roles and what each may do. A permission on patient data is necessary, never sufficient: the user must also be
in the patient's care team (:mod:`dcc.auth.access`).

Why the administrator reads no patient data: administering accounts is not caring for patients (least privilege,
PGSSI-S); an administrator who is also a physician has a second, médecin account.
"""

from __future__ import annotations

PATIENT_READ = "patient.read"
PATIENT_WRITE = "patient.write"
DOCUMENT_READ = "document.read"
DOCUMENT_WRITE = "document.write"
DOCUMENT_VALIDATE = "document.validate"
DMP_ACCESS = "dmp.access"
RCP_MANAGE = "rcp.manage"
DASHBOARD_READ = "dashboard.read"
USERS_MANAGE = "users.manage"
CARE_TEAM_MANAGE = "care_team.manage"
AUDIT_READ = "audit.read"

ROLES: dict[str, frozenset[str]] = {
    # médecin: writes and validates FRCP/PPS, shares them in the DMP
    "medecin": frozenset(
        {
            PATIENT_READ,
            PATIENT_WRITE,
            DOCUMENT_READ,
            DOCUMENT_WRITE,
            DOCUMENT_VALIDATE,
            DMP_ACCESS,
            CARE_TEAM_MANAGE,
        }
    ),
    # other health professional of the team (infirmier·e de coordination, pharmacien…): reads
    "soignant": frozenset({PATIENT_READ, DOCUMENT_READ}),
    # secrétaire de RCP: registers patients and prepares the FRCP, never validates
    "secretaire": frozenset({PATIENT_READ, PATIENT_WRITE, DOCUMENT_READ, DOCUMENT_WRITE, RCP_MANAGE}),
    # 3C (centre de coordination en cancérologie): organises RCP, follows the regional dashboard
    "3c": frozenset({PATIENT_READ, DOCUMENT_READ, RCP_MANAGE, DASHBOARD_READ, CARE_TEAM_MANAGE}),
    "administrateur": frozenset({USERS_MANAGE, CARE_TEAM_MANAGE, AUDIT_READ, DASHBOARD_READ}),
}

# PSC codeProfession (TRE_G15) → role given to an account created at its first PSC login
PROFESSION_ROLES = {"10": "medecin"}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(sorted(ROLES))}")
    return role


def allows(role: str, permission: str) -> bool:
    return permission in ROLES.get(role, frozenset())
