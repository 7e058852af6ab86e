"""Sessions: opened after a successful login (with the CGU gate of 2.3.1), found from their bearer token, revoked
at logout; and the one check every DMP action makes (:func:`require_psc_for_dmp`).

The CGU gate: a login that succeeds is recorded (``user.login``, with ``days_since_cgu``) and, when the CGU must be
accepted (first access, more than a year, a new version), ``cgu.required`` follows at once and the session is opened
*pending*: it can read and accept the CGU and nothing else until then (CGU.01, CGU.02, CGU.03).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults
from dcc.auth.config import AuthSettings
from dcc.auth.errors import PscRequired, SessionInvalid
from dcc.db.models import CguAcceptance
from dcc.db.models_auth import UserAccount, UserSession
from dcc.services import cgu

CGU_NOT_REQUIRED_AT_LOGIN = "cgu_not_required_at_login"
CONTEXTUAL_DMP_WITHOUT_PSC = "contextual_dmp_without_psc"
faults.register(
    CGU_NOT_REQUIRED_AT_LOGIN,
    "a login never asks for the CGU (no cgu.required) and patient data are served before they are accepted",
    ["CGU.01", "CGU.02", "CGU.03"],
)
faults.register(
    CONTEXTUAL_DMP_WITHOUT_PSC,
    "a session opened by a contextual call may act on the DMP without a Pro Santé Connect login",
    ["AUTH.04"],
)

METHODS = ("psc", "password_otp", "contextual")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class OpenedSession:
    token: str  # given once to the client; only its hash is stored
    row: UserSession
    account: UserAccount
    cgu_required: str | None  # first_access, yearly, cgu_changed, or None


def days_since_cgu(session: Session, user_id: str, now: datetime) -> int | None:
    last = session.scalars(
        select(CguAcceptance)
        .where(CguAcceptance.user_id == user_id)
        .order_by(CguAcceptance.at.desc(), CguAcceptance.id.desc())
        .limit(1)
    ).first()
    return None if last is None else (now - _aware(last.at)).days


def open_session(
    session: Session,
    settings: AuthSettings,
    account: UserAccount,
    method: str,
    acr: str | None = None,
    now: datetime | None = None,
    psc_access_token: str | None = None,
    psc_token_expires_at: datetime | None = None,
    context: dict[str, Any] | None = None,
    **login_fields: Any,
) -> OpenedSession:
    """Records the successful ``user.login``, applies the CGU gate, stores the session and audits it."""
    if method not in METHODS:
        raise ValueError(f"method {method!r}: one of {', '.join(METHODS)}")
    now = now or datetime.now(UTC)
    user_id = account.username
    version = cgu.in_force(session, settings.cgu_version)
    pending = cgu.requirement(session, user_id, version, now)
    events.emit(
        session,
        "user.login",
        user_id=user_id,
        method=method,
        acr=acr,
        result="success",
        reason=None,
        rpps=account.rpps,
        role=account.role,
        days_since_cgu=days_since_cgu(session, user_id, now),
        **login_fields,
    )
    required = pending.reason if pending.required else None
    if required and faults.active(CGU_NOT_REQUIRED_AT_LOGIN):
        required = None
    if required:
        events.emit(session, "cgu.required", user_id=user_id, reason=required, cgu_version=version)
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=token_hash(token),
        account_id=account.id,
        method=method,
        acr=acr,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.session_ttl_s),
        last_seen_at=now,
        cgu_pending=required is not None,
        psc_access_token=psc_access_token,
        psc_token_expires_at=psc_token_expires_at,
        context=context,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        user_id,
        "session.opened",
        "user_session",
        str(row.id),
        None,
        {"method": method, "acr": acr, "cgu_pending": row.cgu_pending},
        at=now,
    )
    return OpenedSession(token, row, account, required)


def resolve(session: Session, settings: AuthSettings, token: str, now: datetime | None = None) -> UserSession:
    """The live session of a bearer token (and its idle clock moved on); raises :class:`SessionInvalid`."""
    now = now or datetime.now(UTC)
    row = session.scalars(select(UserSession).where(UserSession.token_hash == token_hash(token))).first()
    if row is None:
        raise SessionInvalid("unknown_session", "no session for this token")
    if row.revoked_at is not None:
        raise SessionInvalid("session_revoked", "the session was closed")
    if now >= _aware(row.expires_at):
        raise SessionInvalid("session_expired", "the session has expired")
    if now - _aware(row.last_seen_at) > timedelta(seconds=settings.session_idle_s):
        raise SessionInvalid("session_idle", "the session was idle too long")
    account = session.get(UserAccount, row.account_id)
    if account is None or not account.active or account.locked_at is not None:
        raise SessionInvalid("account_disabled", "the account is locked or disabled")
    row.last_seen_at = now
    return row


def revoke(session: Session, row: UserSession, actor: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if row.revoked_at is not None:
        return
    row.revoked_at = now
    session.flush()
    audit.record(session, actor, "session.closed", "user_session", str(row.id), None, {"method": row.method})
    events.emit(session, "user.logout", user_id=actor, method=row.method)


def cgu_accepted(session: Session, settings: AuthSettings, row: UserSession, account: UserAccount) -> None:
    """The user accepted the CGU in force: record it and lift the session's pending state."""
    version = cgu.in_force(session, settings.cgu_version)
    cgu.accept(session, account.username, version, account.user_kind)  # emits cgu.accepted
    row.cgu_pending = False
    session.flush()


def require_psc_for_dmp(user_session: UserSession, now: datetime | None = None) -> str:
    """The PSC access token a DMP action goes with (through the Espace de confiance). Raises :class:`PscRequired`
    when the session was not opened by Pro Santé Connect — after a contextual call the user must log in again with
    PSC before any DMP transaction (cahier des charges 2.2, point d'attention; AUTH.04) — or its PSC token expired."""
    now = now or datetime.now(UTC)
    if user_session.method == "contextual":
        if faults.active(CONTEXTUAL_DMP_WITHOUT_PSC):
            return user_session.psc_access_token or ""
        raise PscRequired(
            "psc_login_required_after_contextual",
            "this session was opened by a contextual call from the hospital record: log in with Pro Santé "
            "Connect before any DMP action",
        )
    if user_session.method != "psc" or not user_session.psc_access_token:
        raise PscRequired(
            "psc_login_required",
            f"this session was opened by {user_session.method}: a DMP action needs a Pro Santé Connect login",
        )
    expires = user_session.psc_token_expires_at
    if expires is not None and now >= _aware(expires):
        raise PscRequired("psc_token_expired", "the Pro Santé Connect token has expired: log in again")
    return user_session.psc_access_token
