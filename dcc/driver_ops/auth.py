"""Test-driver operations of authentication, authorisation and the CGU (cahier des charges 2.2, 2.3.1; chapters
AUTH, PSC, CGU): accounts, the three ways in, the CGU gate, patient access, and a DMP action that must come from a
Pro Santé Connect session.

The harness plays the browser: ``auth_psc_begin`` gives the authorisation URL and the state the DCC bound to "this
browser" (what the ``dcc_psc_state`` cookie carries); the harness follows the URL to the provider, reads the
redirect back (``code``, ``state``) and hands both to ``auth_psc_callback``. A login is never a refusal of the
operation: its answer says ``result: success | failure`` and the record of a failure (``user.login``, the failure
count, a lock) is committed like the HTTP login commits it. Sessions are named by their bearer ``token``, as an API
client of the DCC would send it.

Settings come from the environment at each call (``DCC_PSC_*``, ``DCC_CONTEXTUAL_*``, ``DCC_CGU_VERSION``…: the run
points them at its simulators), so one served DCC follows a reconfiguration without a restart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dcc import audit
from dcc.auth import access, accounts, contextual, local, sessions
from dcc.auth.config import AuthSettings
from dcc.auth.errors import AccessDenied, PscRequired, SessionInvalid
from dcc.auth.local import LoginResult
from dcc.auth.psc import PscClient
from dcc.db.models_auth import UserAccount, UserSession
from dcc.driver import Driver, NotFound, operation
from dcc.services import cgu

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/auth/psc/callback"


def _settings() -> AuthSettings:
    return AuthSettings.from_env()


def _at(value: str | None) -> datetime | None:
    """The test clock: an ISO 8601 instant the operation takes as « now » (CGU.02: a login a year later)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise cgu.CguError("invalid_date", f"at {value!r}: ISO 8601 expected") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _answer(result: LoginResult) -> dict[str, Any]:
    if not result.ok:
        return {"result": "failure", "reason": result.reason, "user_id": result.user_id}
    opened = result.opened
    assert opened is not None
    return {
        "result": "success",
        "user_id": opened.account.username,
        "role": opened.account.role,
        "rpps": opened.account.rpps,
        "method": opened.row.method,
        "cgu_required": opened.cgu_required,
        "token": opened.token,
        "context": opened.row.context,
    }


def _session_of(session: Session, token: str, at: str | None = None) -> tuple[UserSession, UserAccount]:
    row = sessions.resolve(session, _settings(), token, _at(at))
    account = session.get(UserAccount, row.account_id)
    assert account is not None  # resolve checked it
    return row, account


def _user_of(session: Session, token: str) -> str | None:
    """Who a token belongs to, for the record of a refusal (None when the token is unknown)."""
    try:
        return _session_of(session, token)[1].username
    except SessionInvalid:
        return None


def _account(session: Session, username: str) -> UserAccount:
    account = accounts.by_username(session, username)
    if account is None:
        raise NotFound(f"no account {username!r}")
    return account


# -- accounts ----------------------------------------------------------------------------------------------------


@operation("auth_create_user", "POST", "/driver/auth/users")
def auth_create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    author: str,
    display_name: str | None = None,
    user_kind: str = "etablissement",
    rpps: str | None = None,
    finess: str | None = None,
) -> dict[str, Any]:
    """An administrator creates a local account and enrols its TOTP: the answer has the ``otpauth://`` URI (the
    QR code) and, for the harness's authenticator, the TOTP secret it carries."""
    account = accounts.create_account(
        session, username, display_name or username, role, author, user_kind, rpps, finess
    )
    uri = local.set_credentials(session, account, password, author)
    return {
        "user_id": account.username,
        "role": account.role,
        "user_kind": account.user_kind,
        "otpauth_uri": uri,
        "totp_secret": account.totp_secret,
    }


@operation("auth_methods", "GET", "/driver/auth/methods")
def auth_methods(session: Session) -> dict[str, Any]:
    """The means of authentication the DCC offers (the login page's choices, AUTH.03)."""
    config = _settings()
    offered = [{"method": "password_otp", "factors": ["password", "totp"]}]
    if config.psc_url:
        offered.insert(0, {"method": "psc", "acr": "eidas1"})
    if config.contextual_secret:
        offered.append({"method": "contextual", "issuers": list(config.contextual_issuers)})
    return {"methods": offered, "password_only": False}


# -- the three ways in ----------------------------------------------------------------------------------------


@operation("auth_password_login", "POST", "/driver/auth/password-logins")
def auth_password_login(
    session: Session, username: str, password: str, otp: str | None = None, at: str | None = None
) -> dict[str, Any]:
    """Identifiant + mot de passe + TOTP (AUTH.01, AUTH.02); ``at`` is the test clock's « now »."""
    return _answer(local.login(session, _settings(), username, password, otp, _at(at)))


def _psc_client() -> PscClient:
    try:
        return PscClient(_settings())
    except ValueError as error:
        raise cgu.CguError("psc_not_configured", str(error)) from None


@operation("auth_psc_begin", "POST", "/driver/auth/psc-logins")
def auth_psc_begin(
    session: Session, login_hint: str | None = None, redirect_uri: str | None = None
) -> dict[str, Any]:
    """Starts a Pro Santé Connect login: the authorisation URL to send the browser to, and the state bound to
    that browser (the ``dcc_psc_state`` cookie)."""
    client = _psc_client()
    try:
        url, pending = client.begin(
            session, redirect_uri or client.settings.psc_redirect_uri or DEFAULT_REDIRECT_URI, login_hint
        )
    finally:
        client.http.close()
    return {"authorization_url": url, "browser_state": pending.state}


@operation("auth_psc_callback", "POST", "/driver/auth/psc-callbacks")
def auth_psc_callback(
    session: Session,
    browser_state: str | None = None,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The provider's redirect back to the DCC (``code``, ``state`` or ``error``) with the browser's state cookie:
    the DCC checks state, exchanges the code, verifies the id_token, calls UserInfo, opens the session."""
    client = _psc_client()
    try:
        return _answer(client.complete(session, state, browser_state, code, error))
    finally:
        client.http.close()


@operation("auth_contextual_login", "POST", "/driver/auth/contextual-calls")
def auth_contextual_login(session: Session, token: str) -> dict[str, Any]:
    """The contextual call from a hospital record (``/contextual?token=…``): a signed, short-lived, single-use
    token (AUTH.05)."""
    return _answer(contextual.login(session, _settings(), token))


@operation("auth_logout", "POST", "/driver/auth/logouts")
def auth_logout(session: Session, token: str) -> dict[str, Any]:
    """Closes a session."""
    row, account = _session_of(session, token)
    sessions.revoke(session, row, account.username)
    return {"result": "logged_out", "user_id": account.username}


# -- CGU and conventions --------------------------------------------------------------------------------------


@operation("auth_cgu_status", "POST", "/driver/auth/cgu-status")
def auth_cgu_status(session: Session, token: str) -> dict[str, Any]:
    """The CGU in force and whether this session's user must still accept them."""
    row, account = _session_of(session, token)
    version = cgu.in_force(session, _settings().cgu_version)
    pending = cgu.requirement(session, account.username, version)
    return {
        "cgu_version": version,
        "required": pending.required,
        "reason": pending.reason,
        "session_pending": row.cgu_pending,
    }


@operation("auth_cgu_version", "GET", "/driver/cgu/in-force")
def auth_cgu_version(session: Session) -> dict[str, Any]:
    """The version of the CGU in force (the latest published, else the configured one)."""
    return {"cgu_version": cgu.in_force(session, _settings().cgu_version)}


@operation(
    "auth_accept_cgu",
    "POST",
    "/driver/auth/cgu-acceptances",
    refusal=lambda s, a: ("cgu.accept_refused", {"user_id": _user_of(s, a.get("token", ""))}),
)
def auth_accept_cgu(session: Session, token: str, cgu_version: str | None = None) -> dict[str, Any]:
    """The session's user accepts the CGU in force (with the clause de confiance): the session is no longer
    pending (CGU.01–03)."""
    row, account = _session_of(session, token)
    settings = _settings()
    version = cgu.in_force(session, settings.cgu_version)
    if cgu_version is not None and cgu_version != version:
        raise cgu.CguError("cgu_version_mismatch", f"the CGU in force are version {version}")
    sessions.cgu_accepted(session, settings, row, account)
    return {"result": "accepted", "user_id": account.username, "cgu_version": version}


@operation(
    "auth_publish_cgu",
    "POST",
    "/driver/cgu/versions",
    refusal=lambda _s, a: ("cgu.publish_refused", {"cgu_version": a.get("cgu_version")}),
)
def auth_publish_cgu(session: Session, cgu_version: str, author: str) -> dict[str, Any]:
    """The DSRC publishes a new version of the CGU: everyone accepts it again at their next login (CGU.03)."""
    row = cgu.publish(session, cgu_version, author)
    return {"cgu_version": row.version, "published_at": row.published_at.isoformat()}


@operation(
    "auth_record_convention",
    "POST",
    "/driver/conventions",
    refusal=lambda _s, a: ("convention.refused", {"finess": a.get("finess")}),
)
def auth_record_convention(
    session: Session,
    finess: str,
    author: str,
    valid_from: str | None = None,
    valid_until: str | None = None,
) -> dict[str, Any]:
    """Records an establishment's convention with the DSRC (its clause de confiance, CGU.04)."""
    convention = cgu.record_convention(session, finess, author, _at(valid_from), _at(valid_until))
    return {
        "convention_id": str(convention.id),
        "finess": convention.finess,
        "valid_from": convention.valid_from.isoformat(),
        "valid_until": convention.valid_until.isoformat() if convention.valid_until else None,
    }


# -- patient access ---------------------------------------------------------------------------------------------


@operation("auth_add_care_team_member", "POST", "/driver/patients/{patient_id}/care-team")
def auth_add_care_team_member(
    session: Session, patient_id: str, username: str, author: str, team_role: str = "participant"
) -> dict[str, Any]:
    """Puts a user in a patient's care team (what an administrator, the 3C or a member does)."""
    patient = Driver._patient(session, patient_id)
    access.add_member(session, patient.id, _account(session, username), team_role, author)
    return {"patient_id": patient_id, "user_id": username, "team_role": team_role}


def _access_refusal(session: Session, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    user_id = _user_of(session, str(arguments.get("token", "")))
    action = str(arguments.get("action", "read"))
    patient_id = str(arguments.get("patient_id"))
    if user_id is not None:
        audit.record(
            session, user_id, "patient.access_denied", "patient", patient_id, None, {"action": action}
        )
    return "patient.access_denied", {"patient_id": patient_id, "user_id": user_id, "action": action}


@operation("auth_access_patient", "POST", "/driver/patients/{patient_id}/accesses", refusal=_access_refusal)
def auth_access_patient(
    session: Session, patient_id: str, token: str, action: str = "read"
) -> dict[str, Any]:
    """A signed-in user opens a patient's file: role, care team and CGU are checked (a session still waiting for
    the CGU is refused ``cgu_required``, CGU.01)."""
    row, account = _session_of(session, token)
    patient = Driver._patient(session, patient_id)
    if row.cgu_pending:
        raise AccessDenied("cgu_required", "accept the CGU first")
    access.access_patient(session, _settings(), account, patient.id, action, method=row.method)
    return {
        "patient_id": patient_id,
        "granted": True,
        "user_id": account.username,
        "identity_status": patient.identity_status,
    }


# -- DMP --------------------------------------------------------------------------------------------------------


def _dmp_refusal(session: Session, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    user_id, method = None, None
    try:
        row, account = _session_of(session, str(arguments.get("token", "")))
        user_id, method = account.username, row.method
    except SessionInvalid:
        pass
    return "dmp.psc_login_required", {
        "user_id": user_id,
        "method": method,
        "document_id": arguments.get("document_id"),
    }


class _DmpRefused(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@operation(
    "auth_dmp_share",
    "POST",
    "/driver/documents/{document_id}/dmp-shares-as-user",
    refusal=_dmp_refusal,
    transactional=False,
)
def auth_dmp_share(sessions: sessionmaker[Session], token: str, document_id: str) -> dict[str, Any]:
    """A signed-in professional shares a validated document to the DMP: the session must come from Pro Santé
    Connect (after a contextual call the DCC asks for a PSC login first, AUTH.04) and the transaction carries the
    professional's Espace de confiance token, exchanged from their PSC token (PSC.05)."""
    return _dmp_share(sessions, token, document_id)


def _trust_token(psc_token: str) -> str | None:
    """The Espace de confiance token exchanged from the professional's PSC access token (PSC.05)."""
    if not psc_token:
        return None
    client = _psc_client()
    try:
        return client.trust_space_token(psc_token)
    finally:
        client.http.close()


def _deliver(factory: sessionmaker[Session], job_ids: list[int], trust_token: str | None) -> list[dict]:
    """Runs the outbox now for what is due; the DMP jobs of this action carry ``trust_token`` (never a token of
    the DCC's own: without the professional's, the DMP transaction does not go)."""
    from dcc.db.models import Transmission
    from dcc.transmissions.packaging import PackagingError
    from dcc.transmissions.worker import build_worker

    mine = set(job_ids)
    try:
        worker = build_worker(factory, dmp_token=lambda job: (trust_token or "") if job.id in mine else "")
    except PackagingError as error:  # no CDA producer wired: the jobs stay queued, the answer says why
        return [{"transmission": job_id, "state": "pending", "error": str(error)} for job_id in job_ids]
    for _ in range(10):  # bounded: what is due now; a refusal fails the job (its retries are not due yet)
        if not worker.run_once():
            break
    with factory() as session:
        out = []
        for job_id in job_ids:
            job = session.get(Transmission, job_id)
            if job is not None:
                out.append({"transmission": job.id, "state": job.state, "error": job.last_error})
        return out


def _dmp_share(factory: sessionmaker[Session], token: str, document_id: str) -> dict[str, Any]:
    from dcc.transmissions import outbox

    with factory() as session:
        row, account = _session_of(session, token)
        if row.cgu_pending:
            raise AccessDenied("cgu_required", "accept the CGU first")
        try:
            psc_token = sessions.require_psc_for_dmp(row)
        except PscRequired as required:
            raise _DmpRefused(required.reason, str(required)) from None
        session.commit()
    trust_token = _trust_token(psc_token)
    with factory() as session:
        job = outbox.share_to_dmp(session, Driver._document(session, document_id), account.username)
        job_id = job.id
        session.commit()
    return {
        "user_id": account.username,
        "method": row.method,
        "token_kind": "psc_trust_space" if trust_token else None,
        "transmissions": _deliver(factory, [job_id], trust_token),
    }


@operation(
    "auth_validate_document",
    "POST",
    "/driver/documents/{document_id}/validations-as-user",
    refusal=lambda s, a: (
        "document.transition_refused",
        {"document_id": a.get("document_id"), "to": "valide", "user_id": _user_of(s, a.get("token", ""))},
    ),
    transactional=False,
)
def auth_validate_document(sessions: sessionmaker[Session], token: str, document_id: str) -> dict[str, Any]:
    """A signed-in professional validates a document; what Figure 10 sends goes at once, the DMP feed with the
    professional's Espace de confiance token when the session comes from Pro Santé Connect (PSC.05)."""
    return _validate(sessions, token, document_id)


def _validate(factory: sessionmaker[Session], token: str, document_id: str) -> dict[str, Any]:
    from dcc.transmissions import routing
    from dcc.transmissions.outbox import validate_and_route

    with factory() as session:
        row, account = _session_of(session, token)
        if row.cgu_pending:
            raise AccessDenied("cgu_required", "accept the CGU first")
        document = Driver._document(session, document_id)
        jobs = validate_and_route(session, document, account.username)
        dmp_jobs = [j.id for j in jobs if j.channel == routing.DMP]
        others = [j.id for j in jobs if j.channel != routing.DMP]
        try:
            psc_token: str | None = sessions.require_psc_for_dmp(row) if dmp_jobs else None
            waiting = None
        except PscRequired as required:
            psc_token, waiting = None, required.reason
        session.commit()
    trust_token = _trust_token(psc_token or "")
    delivered = _deliver(factory, dmp_jobs + others, trust_token) if trust_token or others else []
    return {
        "document_id": document_id,
        "status": "valide",
        "user_id": account.username,
        "dmp": "psc_login_required" if waiting else ("sent" if trust_token else None),
        "transmissions": delivered,
    }
