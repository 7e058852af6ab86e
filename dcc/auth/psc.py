"""Pro Santé Connect login: OpenID Connect authorization code flow with PKCE (cahier des charges 2.2; PSC.01–04).

The DCC is a confidential client (``client_secret_basic``). It asks ``scope=openid scope_all`` with
``acr_values=eidas1``, a PKCE S256 challenge, a random ``state`` (bound to the browser by a cookie and to a pending
row, single use) and a random ``nonce``. On the callback it refuses, before any session and each with its reason
code in the ``user.login`` failure: a provider error (``provider_error``), a state that is not the browser's
(``bad_state``) or is stale (``state_expired``), a failed code exchange (``token_error``), an id_token whose
signature does not verify against the provider's JWKS (``bad_signature``), whose issuer or audience is not ours
(``bad_issuer``, ``bad_audience``), that has expired (``expired``), whose nonce is not ours (``bad_nonce``), whose
``acr`` is not ``eidas1`` (``bad_acr``); then a UserInfo that fails (``userinfo_error``), is about someone else
(``userinfo_subject_mismatch``) or names no RPPS (``no_rpps``). UserInfo (JSON or a signed JWT) gives the IdNat PS
(``SubjectNameID`` = ``"8"`` + RPPS) and the situations d'exercice (``SubjectRefPro``) kept on the account.

Tokens are verified with PyJWT against the JWKS fetched with httpx (one HTTP library for every call, timeouts of our
choosing); an unknown ``kid`` refetches the JWKS once (key rotation).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dcc import events, faults
from dcc.auth import accounts
from dcc.auth.config import AuthSettings
from dcc.auth.errors import LoginRefused
from dcc.auth.local import LoginResult
from dcc.auth.roles import PROFESSION_ROLES
from dcc.auth.sessions import open_session
from dcc.db.models_auth import PscAuthorization
from dcc.tls import client_context

PSC_STATE_NOT_CHECKED = "psc_state_not_checked"
PSC_NONCE_NOT_CHECKED = "psc_nonce_not_checked"
PSC_ACR_NOT_CHECKED = "psc_acr_not_checked"
PSC_SIGNATURE_NOT_CHECKED = "psc_signature_not_checked"
PSC_ACR_VALUES_NOT_SENT = "psc_acr_values_not_sent"
PSC_USERINFO_NOT_CALLED = "psc_userinfo_not_called"
faults.register(PSC_STATE_NOT_CHECKED, "the state returned to the callback is not compared", ["PSC.03"])
faults.register(PSC_NONCE_NOT_CHECKED, "the id_token nonce is not compared with the one sent", ["PSC.03"])
faults.register(PSC_ACR_NOT_CHECKED, "an id_token whose acr is not eidas1 opens a session", ["PSC.03"])
faults.register(PSC_SIGNATURE_NOT_CHECKED, "the id_token signature is not verified", ["PSC.03"])
faults.register(  # a provider that insists on eidas1 (PSC, its simulator) then refuses every login: all fail
    PSC_ACR_VALUES_NOT_SENT,
    "the authorisation request has no acr_values=eidas1",
    ["PSC.02", "PSC.01", "PSC.03", "PSC.04", "PSC.05", "AUTH.04"],
)
faults.register(
    PSC_USERINFO_NOT_CALLED,
    "the professional's identity is read from the id_token, UserInfo is never called",
    ["PSC.04"],
)

METHOD = "psc"
ACR = "eidas1"
SCOPE = "openid scope_all"
PENDING_TTL = timedelta(minutes=10)
ALGORITHMS = ("RS256", "PS256", "ES256")  # asymmetric only: never HS* nor none for an id_token


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class PscClient:
    """The DCC's OpenID Connect client of Pro Santé Connect. Thread-safe; discovery and JWKS are cached."""

    userinfo_accept = (
        "application/json"  # or application/jwt: PSC then signs UserInfo, verified like the id_token
    )

    def __init__(self, settings: AuthSettings, http: httpx.Client | None = None) -> None:
        if not settings.psc_discovery_url:
            raise ValueError("DCC_PSC_URL: not set (the Pro Santé Connect discovery URL)")
        if not settings.psc_client_secret:
            raise ValueError("DCC_PSC_CLIENT_SECRET: not set (the DCC's client secret at Pro Santé Connect)")
        self.settings = settings
        self.http = http or httpx.Client(
            timeout=settings.http_timeout_s, follow_redirects=False, verify=client_context()
        )
        self._lock = threading.RLock()
        self._config: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKSet | None = None

    # -- provider metadata ------------------------------------------------------------------------------------
    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise LoginRefused("provider_unreachable", f"{what} {url}: {type(error).__name__}") from None
        if response.status_code != 200:
            raise LoginRefused("provider_unreachable", f"{what} {url}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise LoginRefused("provider_unreachable", f"{what} {url}: not JSON") from None
        if not isinstance(body, dict):
            raise LoginRefused("provider_unreachable", f"{what} {url}: not a JSON object")
        return body

    def discovery(self) -> dict[str, Any]:
        with self._lock:
            if self._config is None:
                config = self._get_json(self.settings.psc_discovery_url or "", "discovery")
                missing = [
                    k
                    for k in (
                        "issuer",
                        "authorization_endpoint",
                        "token_endpoint",
                        "userinfo_endpoint",
                        "jwks_uri",
                    )
                    if not config.get(k)
                ]
                if missing:
                    raise LoginRefused("provider_unreachable", f"discovery: missing {', '.join(missing)}")
                self._config = config
            return self._config

    def signing_key(self, kid: str | None) -> Any:
        """The JWKS key of ``kid``; an unknown kid refetches the JWKS once (the provider rotated its keys)."""
        for refresh in (False, True):
            with self._lock:
                if self._jwks is None or refresh:
                    body = self._get_json(self.discovery()["jwks_uri"], "jwks")
                    try:
                        self._jwks = jwt.PyJWKSet.from_dict(body)
                    except jwt.PyJWTError as error:
                        raise LoginRefused("bad_signature", f"jwks: {error}") from None
                keys = [k for k in self._jwks.keys if kid is None or k.key_id == kid]
            if keys:
                return keys[0]
        raise LoginRefused("bad_signature", f"id_token: key id {kid!r} is not in the provider's JWKS")

    # -- the flow ---------------------------------------------------------------------------------------------
    def begin(
        self, session: Session, redirect_uri: str, login_hint: str | None = None, now: datetime | None = None
    ) -> tuple[str, PscAuthorization]:
        """The authorisation URL to send the browser to, and the pending row (state, nonce, PKCE verifier)."""
        now = now or _now()
        config = self.discovery()
        session.execute(delete(PscAuthorization).where(PscAuthorization.expires_at < now))
        pending = PscAuthorization(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            redirect_uri=redirect_uri,
            created_at=now,
            expires_at=now + PENDING_TTL,
        )
        session.add(pending)
        session.flush()
        params = {
            "response_type": "code",
            "client_id": self.settings.psc_client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": pending.state,
            "nonce": pending.nonce,
            "acr_values": ACR,
            "code_challenge": s256(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        if faults.active(PSC_ACR_VALUES_NOT_SENT):
            del params["acr_values"]
        if login_hint:
            params["login_hint"] = login_hint
        endpoint = config["authorization_endpoint"]
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params), pending

    def complete(
        self,
        session: Session,
        returned_state: str | None,
        expected_state: str | None,
        code: str | None,
        error: str | None = None,
        now: datetime | None = None,
    ) -> LoginResult:
        """Finishes the login from the callback's parameters; ``expected_state`` is the one bound to the browser
        (cookie). Every refusal is recorded as a ``user.login`` failure with its reason, and no session opens."""
        now = now or _now()
        try:
            pending = self._pending(session, returned_state, expected_state, error, now)
            tokens = self._exchange(pending, code or "")
            claims = self._verify_id_token(tokens.get("id_token"), pending.nonce, now)
            info = self._identity(tokens, claims)
        except LoginRefused as refused:
            events.emit(
                session,
                "user.login",
                user_id=None,
                method=METHOD,
                acr=None,
                result="failure",
                reason=refused.reason,
                detail=str(refused),
            )
            return LoginResult(None, refused.reason, None)
        account = accounts.professional(
            session,
            info["rpps"],
            info["display_name"],
            PROFESSION_ROLES.get(info["profession"] or "", "soignant"),
            info["user_kind"],
            info["finess"],
            info["activities"],
            actor="psc",
        )
        expires_in = tokens.get("expires_in")
        opened = open_session(
            session,
            self.settings,
            account,
            METHOD,
            acr=claims.get("acr"),
            now=now,
            psc_access_token=tokens.get("access_token"),
            psc_token_expires_at=now + timedelta(seconds=int(expires_in))
            if isinstance(expires_in, int)
            else None,
            idnat=info["idnat"],
            userinfo_called=info["userinfo_called"],
        )
        return LoginResult(opened, None, account.username)

    def _pending(
        self,
        session: Session,
        returned_state: str | None,
        expected_state: str | None,
        error: str | None,
        now: datetime,
    ) -> PscAuthorization:
        pending = None
        if expected_state:
            pending = session.scalars(
                select(PscAuthorization).where(PscAuthorization.state == expected_state)
            ).first()
        if pending is not None:
            session.delete(pending)  # single use, whatever follows
            session.flush()
        if error:
            raise LoginRefused("provider_error", f"Pro Santé Connect answered error={error}")
        if pending is None:
            raise LoginRefused("bad_state", "no login in progress for this browser (state unknown or used)")
        if returned_state != expected_state and not faults.active(PSC_STATE_NOT_CHECKED):
            raise LoginRefused("bad_state", "the state returned is not the one this browser sent")
        if now >= _aware(pending.expires_at):
            raise LoginRefused("state_expired", "the login took too long; start again")
        return pending

    def _exchange(self, pending: PscAuthorization, code: str) -> dict[str, Any]:
        if not code:
            raise LoginRefused("token_error", "no authorization code in the callback")
        try:
            response = self.http.post(
                self.discovery()["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.code_verifier,
                },
                auth=(self.settings.psc_client_id, self.settings.psc_client_secret or ""),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise LoginRefused("provider_unreachable", f"token endpoint: {type(error).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            described = body.get("error") if isinstance(body, dict) else f"HTTP {response.status_code}"
            raise LoginRefused("token_error", f"token endpoint refused the code: {described}")
        if not isinstance(body.get("id_token"), str) or not isinstance(body.get("access_token"), str):
            raise LoginRefused("token_error", "token response without id_token or access_token")
        return body

    def _decode(self, token: str, what: str, audience: str | None, now: datetime) -> dict[str, Any]:
        config = self.discovery()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise LoginRefused("bad_signature", f"{what}: unreadable ({error})") from None
        if header.get("alg") not in ALGORITHMS:
            raise LoginRefused("bad_signature", f"{what}: algorithm {header.get('alg')!r} refused")
        verify = not faults.active(PSC_SIGNATURE_NOT_CHECKED)
        key = self.signing_key(header.get("kid")) if verify else None
        try:
            return jwt.decode(
                token,
                key.key if key is not None else None,
                algorithms=list(ALGORITHMS),
                audience=audience,
                issuer=config["issuer"],
                leeway=self.settings.psc_leeway_s,
                options={
                    "verify_signature": verify,
                    "verify_aud": audience is not None,
                    "require": ["iss", "sub", "iat"] + (["exp", "aud"] if audience is not None else []),
                },
            )
        except jwt.ExpiredSignatureError:
            raise LoginRefused("expired", f"{what}: expired") from None
        except jwt.InvalidAudienceError:
            raise LoginRefused("bad_audience", f"{what}: not issued for this DCC") from None
        except jwt.InvalidIssuerError:
            raise LoginRefused("bad_issuer", f"{what}: not issued by {config['issuer']}") from None
        except jwt.MissingRequiredClaimError as error:
            raise LoginRefused("bad_token", f"{what}: claim {error.claim} missing") from None
        except jwt.InvalidSignatureError:
            raise LoginRefused("bad_signature", f"{what}: the signature does not verify") from None
        except jwt.PyJWTError as error:
            raise LoginRefused("bad_token", f"{what}: {error}") from None

    def _verify_id_token(self, id_token: Any, nonce: str, now: datetime) -> dict[str, Any]:
        claims = self._decode(str(id_token), "id_token", self.settings.psc_client_id, now)
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce) and not faults.active(
            PSC_NONCE_NOT_CHECKED
        ):
            raise LoginRefused("bad_nonce", "id_token: the nonce is not the one sent")
        if claims.get("acr") != ACR and not faults.active(PSC_ACR_NOT_CHECKED):
            raise LoginRefused("bad_acr", f"id_token: acr {claims.get('acr')!r}, {ACR} required")
        return claims

    def _userinfo(self, access_token: str, now: datetime) -> dict[str, Any]:
        try:
            response = self.http.get(
                self.discovery()["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {access_token}", "Accept": self.userinfo_accept},
            )
        except httpx.HTTPError as error:
            raise LoginRefused("userinfo_error", f"userinfo: {type(error).__name__}") from None
        if response.status_code != 200:
            raise LoginRefused("userinfo_error", f"userinfo: HTTP {response.status_code}")
        if response.headers.get("content-type", "").startswith("application/jwt"):
            return self._decode(response.text.strip(), "userinfo", None, now)
        try:
            body = response.json()
        except ValueError:
            raise LoginRefused("userinfo_error", "userinfo: neither JSON nor a JWT") from None
        if not isinstance(body, dict):
            raise LoginRefused("userinfo_error", "userinfo: not a JSON object")
        return body

    def _identity(self, tokens: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        called = not faults.active(PSC_USERINFO_NOT_CALLED)
        if called:
            info = self._userinfo(tokens["access_token"], _now())
            if info.get("sub") != claims.get("sub"):
                raise LoginRefused("userinfo_subject_mismatch", "userinfo is about another subject")
        else:
            info = claims
        return {**map_userinfo(info), "userinfo_called": called}

    def trust_space_token(self, access_token: str, audience: str = "edc-psc") -> str:
        """Token exchange (RFC 8693) of the professional's PSC access token for the Espace de confiance token that
        a DMP transaction carries (PSC.05)."""
        try:
            response = self.http.post(
                self.discovery()["token_endpoint"],
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                    "subject_token": access_token,
                    "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "audience": audience,
                },
                auth=(self.settings.psc_client_id, self.settings.psc_client_secret or ""),
            )
        except httpx.HTTPError as error:
            raise LoginRefused("provider_unreachable", f"token exchange: {type(error).__name__}") from None
        if response.status_code != 200:
            raise LoginRefused("token_error", f"token exchange refused: HTTP {response.status_code}")
        token = response.json().get("access_token")
        if not isinstance(token, str):
            raise LoginRefused("token_error", "token exchange: no access_token")
        return token


def map_userinfo(info: dict[str, Any]) -> dict[str, Any]:
    """PSC UserInfo → the account's fields: IdNat PS, RPPS, name, situations d'exercice (SubjectRefPro)."""
    idnat = str(info.get("SubjectNameID") or info.get("preferred_username") or "")
    rpps = next(
        (
            str(o.get("identifiant"))
            for o in info.get("otherIds") or []
            if isinstance(o, dict) and o.get("origine") == "RPPS" and o.get("identifiant")
        ),
        None,
    )
    if rpps is None and idnat.startswith("8") and len(idnat) == 12:
        rpps = idnat[1:]
    if not rpps or not accounts.RPPS.match(rpps):
        raise LoginRefused("no_rpps", f"userinfo: no RPPS for {idnat or 'this subject'}")
    activities: list[dict[str, Any]] = []
    profession = None
    ref_pro = info.get("SubjectRefPro") if isinstance(info.get("SubjectRefPro"), dict) else {}
    for exercice in ref_pro.get("exercices") or []:
        if not isinstance(exercice, dict):
            continue
        profession = profession or exercice.get("codeProfession")
        for activity in exercice.get("activities") or [{}]:
            activities.append(
                {
                    "profession": exercice.get("codeProfession"),
                    "savoir_faire": exercice.get("codeSavoirFaire"),
                    "finess_site": activity.get("numeroFinessSite") if isinstance(activity, dict) else None,
                    "raison_sociale": activity.get("raisonSocialeSite")
                    if isinstance(activity, dict)
                    else None,
                }
            )
    finess = next((a["finess_site"] for a in activities if a["finess_site"]), None)
    name = " ".join(str(info.get(k) or "") for k in ("given_name", "family_name")).strip()
    return {
        "idnat": idnat,
        "rpps": rpps,
        "display_name": name or idnat,
        "profession": profession,
        "activities": activities or None,
        "finess": finess,
        # an activity in an establishment (a FINESS site) makes the establishment's convention apply (2.3.1 cas 2)
        "user_kind": "etablissement" if finess else "liberal",
    }
