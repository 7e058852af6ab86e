"""Login, logout, CGU acceptance and user administration of the reference DCC (cahier des charges 2.2, 2.3.1).

Three ways in, no other (AUTH.03): Pro Santé Connect (``/auth/psc/login`` → provider → ``/auth/psc/callback``),
identifiant + mot de passe + TOTP (``POST /auth/login``), and the contextual call from a hospital record
(``GET /contextual?token=…``). A refused login answers 401 with its reason code, and the refusal is committed (it
is in the event journal); the response is a plain JSON answer, not an exception, for that reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dcc.auth import access, accounts, contextual, local, sessions
from dcc.auth.config import AuthSettings
from dcc.auth.deps import (
    COOKIE,
    STATE_COOKIE,
    AuthContext,
    Authenticated,
    Config,
    CurrentSession,
    Db,
    patient_access,
    psc_session,
    refuse,
    require_permission,
)
from dcc.auth.errors import LoginRefused
from dcc.auth.local import LoginResult
from dcc.auth.psc import PscClient
from dcc.auth.roles import USERS_MANAGE
from dcc.db.models import Patient
from dcc.services import cgu

router = APIRouter(tags=["authentification"])
Admin = Annotated[AuthContext, Depends(require_permission(USERS_MANAGE))]
PatientRead = Annotated[Patient, Depends(patient_access("read"))]


def psc_client(request: Request, config: Config) -> PscClient:
    state = request.app.state
    if getattr(state, "psc_client", None) is None:
        try:
            state.psc_client = PscClient(config)
        except ValueError as error:
            raise refuse(503, "psc_not_configured", str(error)) from None
    return state.psc_client


Psc = Annotated[PscClient, Depends(psc_client)]


def _answer(result: LoginResult, config: AuthSettings) -> JSONResponse:
    if not result.ok:
        return JSONResponse({"result": "failure", "reason": result.reason}, status_code=401)
    opened = result.opened
    assert opened is not None
    body = {
        "result": "success",
        "user_id": opened.account.username,
        "role": opened.account.role,
        "method": opened.row.method,
        "cgu_required": opened.cgu_required,
        "token": opened.token,
    }
    response = JSONResponse(body)
    response.set_cookie(
        COOKIE,
        opened.token,
        max_age=config.session_ttl_s,
        httponly=True,
        secure=config.cookie_secure,
        samesite="lax",
    )
    return response


@router.get("/auth/methods")
def methods(config: Config) -> dict[str, Any]:
    """The means of authentication this DCC offers — all of them (AUTH.03: none weaker)."""
    offered = [{"method": "password_otp", "login": "/auth/login", "factors": ["password", "totp"]}]
    if config.psc_url:
        offered.insert(0, {"method": "psc", "login": "/auth/psc/login", "acr": "eidas1"})
    if config.contextual_secret:
        offered.append(
            {"method": "contextual", "login": "/contextual", "issuers": list(config.contextual_issuers)}
        )
    return {"methods": offered}


# -- Pro Santé Connect ----------------------------------------------------------------------------------------
@router.get("/auth/psc/login")
def psc_login(
    request: Request,
    db: Db,
    client: Psc,
    config: Config,
    login_hint: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    redirect_uri = config.psc_redirect_uri or str(request.url_for("psc_callback"))
    try:
        url, pending = client.begin(db, redirect_uri, login_hint)
    except LoginRefused as refused:
        return JSONResponse({"result": "failure", "reason": refused.reason}, status_code=503)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        pending.state,
        max_age=600,
        httponly=True,
        secure=config.cookie_secure,
        samesite="lax",
        path="/auth/psc",
    )
    return response


@router.get("/auth/psc/callback", name="psc_callback")
def psc_callback(
    request: Request,
    db: Db,
    client: Psc,
    config: Config,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    result = client.complete(db, state, request.cookies.get(STATE_COOKIE), code, error)
    response = _answer(result, config)
    response.delete_cookie(STATE_COOKIE, path="/auth/psc")
    return response


# -- identifiant, mot de passe, TOTP --------------------------------------------------------------------------
class PasswordLogin(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    otp: str | None = Field(None, max_length=10)


@router.post("/auth/login")
def password_login(body: PasswordLogin, db: Db, config: Config) -> JSONResponse:
    return _answer(local.login(db, config, body.username, body.password, body.otp), config)


# -- contextual call from a hospital record -------------------------------------------------------------------
@router.get("/contextual")
def contextual_call(
    token: Annotated[str, Query(max_length=8000)],
    db: Db,
    config: Config,
) -> JSONResponse:
    result = contextual.login(db, config, token)
    response = _answer(result, config)
    if result.ok and result.opened is not None:
        body = dict(result.opened.row.context or {})
        response.headers["X-DCC-Patient-Id"] = str(body.get("patient_id") or "")
    return response


# -- session ---------------------------------------------------------------------------------------------------
@router.get("/auth/me")
def me(ctx: Authenticated) -> dict[str, Any]:
    account, row = ctx.account, ctx.session_row
    return {
        "user_id": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "rpps": account.rpps,
        "user_kind": account.user_kind,
        "finess": account.finess,
        "activities": account.activities,
        "method": row.method,
        "acr": row.acr,
        "cgu_pending": row.cgu_pending,
        "context": row.context,
    }


@router.post("/auth/logout")
def logout(ctx: Authenticated, db: Db) -> JSONResponse:
    sessions.revoke(db, ctx.session_row, ctx.user_id)
    response = JSONResponse({"result": "logged_out"})
    response.delete_cookie(COOKIE)
    return response


# -- CGU -------------------------------------------------------------------------------------------------------
class CguAcceptanceBody(BaseModel):
    cgu_version: str = Field(max_length=20)


@router.get("/auth/cgu")
def cgu_status(
    ctx: Authenticated,
    db: Db,
    config: Config,
) -> dict[str, Any]:
    version = cgu.in_force(db, config.cgu_version)
    pending = cgu.requirement(db, ctx.user_id, version)
    return {"cgu_version": version, "required": pending.required, "reason": pending.reason}


@router.post("/auth/cgu/accept")
def cgu_accept(
    body: CguAcceptanceBody,
    ctx: Authenticated,
    db: Db,
    config: Config,
) -> dict[str, Any]:
    version = cgu.in_force(db, config.cgu_version)
    if body.cgu_version != version:
        raise refuse(409, "cgu_version_mismatch", f"the CGU in force are version {version}")
    sessions.cgu_accepted(db, config, ctx.session_row, ctx.account)
    return {"result": "accepted", "cgu_version": version}


# -- administration --------------------------------------------------------------------------------------------
class NewAccount(BaseModel):
    username: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    password: str = Field(max_length=1024)
    user_kind: str = Field("etablissement", max_length=14)
    rpps: str | None = Field(None, max_length=11)
    finess: str | None = Field(None, max_length=9)


@router.post("/auth/users", status_code=201)
def create_user(
    body: NewAccount,
    ctx: Admin,
    db: Db,
) -> dict[str, Any]:
    try:
        account = accounts.create_account(
            db,
            body.username,
            body.display_name,
            body.role,
            ctx.user_id,
            body.user_kind,
            body.rpps,
            body.finess,
        )
        uri = local.set_credentials(db, account, body.password, ctx.user_id)
    except ValueError as error:
        raise refuse(422, "invalid_account", str(error)) from None
    return {"user_id": account.username, "role": account.role, "otpauth_uri": uri}


@router.post("/auth/users/{username}/unlock")
def unlock_user(
    username: str,
    ctx: Admin,
    db: Db,
) -> dict[str, Any]:
    account = accounts.by_username(db, username)
    if account is None:
        raise refuse(404, "unknown_user", f"no account {username!r}")
    local.unlock(db, account, ctx.user_id)
    return {"user_id": username, "locked": False}


class TeamMember(BaseModel):
    username: str = Field(max_length=64)
    team_role: str = Field("participant", max_length=20)


@router.post("/auth/patients/{patient_id}/care-team", status_code=201)
def add_care_team_member(
    patient_id: int,
    body: TeamMember,
    ctx: CurrentSession,
    db: Db,
) -> dict[str, Any]:
    if not access.may_manage_team(db, patient_id, ctx.account):
        raise refuse(403, "role_not_allowed", "you may not manage this patient's care team")
    member = accounts.by_username(db, body.username)
    if member is None:
        raise refuse(404, "unknown_user", f"no account {body.username!r}")
    try:
        access.add_member(db, patient_id, member, body.team_role, ctx.user_id)
    except ValueError as error:
        raise refuse(422, "invalid_member", str(error)) from None
    return {"patient_id": str(patient_id), "user_id": member.username, "team_role": body.team_role}


@router.get("/auth/patients/{patient_id}/access")
def patient_access_probe(patient: PatientRead) -> dict[str, Any]:
    """Reads the patient through the access check: the smallest route that shows the rule (and is audited)."""
    return {"patient_id": str(patient.id), "granted": True, "identity_status": patient.identity_status}


@router.get("/auth/dmp/ready")
def dmp_ready(ctx: Annotated[AuthContext, Depends(psc_session)]) -> dict[str, Any]:
    """What a DMP action checks first (AUTH.04): 200 for a Pro Santé Connect session, else 401 with the login URL."""
    return {"ready": True, "user_id": ctx.user_id, "method": ctx.method}
