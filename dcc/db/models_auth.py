"""Tables of authentication and authorisation (cahier des charges 2.2): accounts, care teams, sessions, pending
Pro Santé Connect authorisations and the used contextual-call token ids.

Why sessions and pending authorisations are rows and not signed cookies: a session must be revocable (logout,
lockout, a role withdrawn) and a PSC ``state`` or a contextual-call ``jti`` must be single-use across every worker
of the DCC, which only a shared store gives.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dcc.db.base import Base


class UserAccount(Base):
    """A user of the DCC. ``username`` is the ``user_id`` of every event and audit entry; a professional known by
    Pro Santé Connect or a contextual call is found by ``rpps`` (the same account whatever the way in)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # dcc.auth.roles.ROLES
    rpps: Mapped[str | None] = mapped_column(String(11), unique=True)
    user_kind: Mapped[str] = mapped_column(String(14))  # liberal, etablissement (CGU, clause de confiance)
    finess: Mapped[str | None] = mapped_column(String(9))
    activities: Mapped[list | None] = mapped_column(JSON)  # situations d'exercice from PSC UserInfo
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # last accepted TOTP time step (no replay)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CareTeamMember(Base):
    """A user in a patient's care team: the second condition (with the role) to read or write the patient."""

    __tablename__ = "care_team_member"
    __table_args__ = (
        UniqueConstraint("patient_id", "account_id", name="uq_care_team_member_patient_account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    team_role: Mapped[str] = mapped_column(String(20))  # referent, participant, contextual
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """An open session. Only the sha256 of the bearer token is stored, so reading the table opens nothing."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    method: Mapped[str] = mapped_column(String(14))  # psc, password_otp, contextual
    acr: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cgu_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    psc_access_token: Mapped[str | None] = mapped_column(Text)  # for the Espace de confiance (DMP)
    psc_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    context: Mapped[dict | None] = mapped_column(JSON)  # contextual call: mode, patient


class PscAuthorization(Base):
    """A Pro Santé Connect authorisation request waiting for its callback: state, nonce and PKCE verifier."""

    __tablename__ = "psc_authorization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContextualJti(Base):
    """A contextual-call token already used (its ``jti``): single use, kept until the token has expired."""

    __tablename__ = "contextual_jti"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), unique=True)
    issuer: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CguVersion(Base):
    """A version of the CGU published by the DSRC (2.3.1): the latest one is in force, so that publishing a new
    version makes every professional accept again at their next login (CGU.03). Without any row the version is
    the configuration's (``DCC_CGU_VERSION``)."""

    __tablename__ = "cgu_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(64))
