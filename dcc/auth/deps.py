"""FastAPI dependencies other routes use: who is calling (``current_user``), with which role (``require_role``,
``require_permission``), on which patient (``patient_access``), and whether a DMP action may go (``psc_session``).

The session token comes from the ``dcc_session`` cookie (browsers) or an ``Authorization: Bearer`` header (API
clients, the test driver). A session still waiting for the CGU passes only :func:`authenticated`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from dcc import events
from dcc.api.deps import session as db_session
from dcc.auth import access, sessions
from dcc.auth.config import AuthSettings
from dcc.auth.errors import AccessDenied, PscRequired, SessionInvalid
from dcc.auth.roles import allows
from dcc.db.models import Patient
from dcc.db.models_auth import UserAccount, UserSession

COOKIE = "dcc_session"
STATE_COOKIE = "dcc_psc_state"


Db = Annotated[Session, Depends(db_session)]


def settings(request: Request) -> AuthSettings:
    """The app's :class:`AuthSettings` (``app.state.auth_settings``), else the environment's, read once."""
    state = request.app.state
    if getattr(state, "auth_settings", None) is None:
        state.auth_settings = AuthSettings.from_env()
    return state.auth_settings


Config = Annotated[AuthSettings, Depends(settings)]


def refuse(status: int, reason: str, message: str, **extra: Any) -> HTTPException:
    return HTTPException(status_code=status, detail={"reason": reason, "message": message, **extra})


@dataclass
class AuthContext:
    account: UserAccount
    session_row: UserSession

    @property
    def user_id(self) -> str:
        return self.account.username

    @property
    def method(self) -> str:
        return self.session_row.method


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    return request.cookies.get(COOKIE) or None


def authenticated(request: Request, db: Db, config: Config) -> AuthContext:
    """Any live session, even one that must still accept the CGU."""
    token = bearer_token(request)
    if token is None:
        raise refuse(401, "not_authenticated", "log in first", login="/auth/methods")
    try:
        row = sessions.resolve(db, config, token)
    except SessionInvalid as invalid:
        raise refuse(401, invalid.reason, str(invalid), login="/auth/methods") from None
    account = db.get(UserAccount, row.account_id)
    assert account is not None  # resolve checked it
    return AuthContext(account, row)


Authenticated = Annotated[AuthContext, Depends(authenticated)]


def current_session(ctx: Authenticated) -> AuthContext:
    """A session allowed to work: the CGU in force accepted (CGU.01–03)."""
    if ctx.session_row.cgu_pending:
        raise refuse(403, "cgu_required", "accept the CGU first", cgu="/auth/cgu")
    return ctx


CurrentSession = Annotated[AuthContext, Depends(current_session)]


def current_user(ctx: CurrentSession) -> UserAccount:
    return ctx.account


def require_role(*roles: str) -> Callable[..., AuthContext]:
    def dependency(ctx: CurrentSession) -> AuthContext:
        if ctx.account.role not in roles:
            raise refuse(403, "role_not_allowed", f"role {ctx.account.role} is not one of {', '.join(roles)}")
        return ctx

    return dependency


def require_permission(permission: str) -> Callable[..., AuthContext]:
    def dependency(ctx: CurrentSession) -> AuthContext:
        if not allows(ctx.account.role, permission):
            raise refuse(403, "role_not_allowed", f"role {ctx.account.role} may not {permission}")
        return ctx

    return dependency


def patient_access(action: str = "read") -> Callable[..., Patient]:
    """A dependency for routes with a ``patient_id`` path parameter: the patient, when the caller may ``action`` it
    (audited); else 403/404 with the reason, the refusal journaled and committed before the error is raised."""

    def dependency(
        patient_id: int,
        ctx: CurrentSession,
        db: Db,
        config: Config,
    ) -> Patient:
        try:
            return access.access_patient(db, config, ctx.account, patient_id, action, method=ctx.method)
        except AccessDenied as denied:
            access.record_denial(db, ctx.account, patient_id, action, denied.reason)
            db.commit()  # the error below rolls the request back: keep the record of the refusal
            status = 404 if denied.reason == "unknown_patient" else 403
            raise refuse(status, denied.reason, str(denied)) from None

    return dependency


def psc_session(ctx: CurrentSession, db: Db) -> AuthContext:
    """For DMP actions: the session must come from Pro Santé Connect (AUTH.04); else 401 with where to log in."""
    try:
        sessions.require_psc_for_dmp(ctx.session_row)
    except PscRequired as required:
        events.emit(
            db, "dmp.psc_login_required", user_id=ctx.user_id, method=ctx.method, reason=required.reason
        )
        db.commit()
        raise refuse(401, required.reason, str(required), login="/auth/psc/login") from None
    return ctx
