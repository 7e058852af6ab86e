"""The Pro Santé Connect simulator: an OpenID Connect provider on loopback (NATIONAL-SERVICES §4).

Discovery (`/.well-known/openid-configuration` and PSC's `wallet-openid-configuration`), authorization code flow
with PKCE (S256) and state/nonce, `acr_values=eidas1`, RS256-signed id_token and access token, UserInfo with the
PSC claims (JSON, or a signed JWT when asked with ``Accept: application/jwt``), JWKS, and token exchange (RFC 8693)
for the Espace de confiance. It refuses an unknown client or redirect URI, a replayed or expired code, a wrong PKCE
verifier and an expired or forged token. The authorize step auto-approves a test practitioner (``login_hint`` =
RPPS, else the first): the CPS / e-CPS ceremony itself is out of scope.

``misbehave`` (a set, per run) makes it answer wrongly on purpose so a DCC's checks can be tested: ``state``
(another state in the redirect), ``nonce`` (another nonce in the id_token), ``signature`` (id_token signed with a
key not in the JWKS), ``acr`` (acr ``eidas2`` in the id_token).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jwt.algorithms import RSAAlgorithm

from harness.simulators import http_faults
from harness.simulators.base import HttpSimulator
from harness.simulators.psc.practitioners import DEFAULT_PRACTITIONERS, Practitioner

REALM = "/auth/realms/esante-wallet"
OIDC = REALM + "/protocol/openid-connect"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    practitioner: Practitioner
    expires: float


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class PscSimulator(HttpSimulator):
    """Options: ``clients`` ({client_id: {secret, redirect_uris}}; default one client ``dcc-recette`` with secret
    ``secret`` and any loopback redirect), ``practitioners``, ``token_ttl_s`` (120), ``code_ttl_s`` (60),
    ``misbehave`` (set, see the module docstring)."""

    name = "psc"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        self.clients: dict[str, dict[str, Any]] = options.pop("clients", None) or {
            "dcc-recette": {"secret": "secret", "redirect_uris": ["loopback"]}
        }
        self.practitioners: tuple[Practitioner, ...] = tuple(
            options.pop("practitioners", DEFAULT_PRACTITIONERS)
        )
        self.token_ttl_s = float(options.pop("token_ttl_s", 120))
        self.code_ttl_s = float(options.pop("code_ttl_s", 60))
        self.misbehave: set[str] = set(options.pop("misbehave", ()))
        if options:
            raise ValueError(f"psc: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(evidence=evidence, faults=faults, host=host, port=port)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._grants: dict[str, _Grant] = {}
        self._used_codes: set[str] = set()

    @property
    def issuer(self) -> str:
        return self.base_url + REALM

    def build_app(self) -> FastAPI:
        return build_app(self)

    def jwks(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**key, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any], rogue: bool = False) -> str:
        return jwt.encode(
            claims, self._rogue_key if rogue else self._key, algorithm="RS256", headers={"kid": self.kid}
        )

    def verify(self, token: str) -> dict[str, Any]:
        return jwt.decode(token, self._key.public_key(), algorithms=["RS256"], options={"verify_aud": False})

    def redirect_allowed(self, client_id: str, redirect_uri: str) -> bool:
        client = self.clients.get(client_id)
        if client is None:
            return False
        allowed = client.get("redirect_uris", [])
        loopback = (
            redirect_uri.startswith(("http://127.0.0.1:", "http://localhost:")) and "loopback" in allowed
        )
        return loopback or redirect_uri in allowed

    def practitioner(self, hint: str | None) -> Practitioner | None:
        if not hint:
            return self.practitioners[0]
        return next((p for p in self.practitioners if hint in (p.rpps, p.subject_name_id)), None)


async def _form(request: Request) -> dict[str, str]:
    """The token request's body: OAuth sends application/x-www-form-urlencoded (RFC 6749 §4.1.3); a body that is
    not readable as such is an empty form, which the checks then refuse."""
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    return dict(pairs)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def build_app(sim: PscSimulator) -> FastAPI:
    app = FastAPI(title="Pro Santé Connect simulator", docs_url=None, redoc_url=None, openapi_url=None)

    def emit(kind: str, data: dict[str, Any], evidence: bytes | None = None) -> None:
        artifacts = (sim.evidence.store("psc", f"{kind}.json", evidence),) if evidence is not None else ()
        sim.evidence.emit("psc", f"psc.{kind}", data, artifacts)

    async def fault_response(operation: str) -> Response | None:
        return await http_faults.injected(
            sim,
            "psc",
            operation,
            refuse=lambda: _oauth_error("access_denied", "refused (injected fault)", 403),
            unavailable=lambda: _oauth_error(
                "temporarily_unavailable", "service unavailable (injected fault)", 503
            ),
            malformed=b'{"access_token": ',
            media_type="application/json",
        )

    def discovery() -> dict[str, Any]:
        return {
            "issuer": sim.issuer,
            "authorization_endpoint": sim.base_url + OIDC + "/auth",
            "token_endpoint": sim.base_url + OIDC + "/token",
            "userinfo_endpoint": sim.base_url + OIDC + "/userinfo",
            "jwks_uri": sim.base_url + OIDC + "/certs",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", EXCHANGE],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": ["eidas1"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "scope_all"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    @app.get(REALM + "/.well-known/openid-configuration")
    @app.get(REALM + "/.well-known/wallet-openid-configuration")
    async def well_known() -> JSONResponse:
        return JSONResponse(discovery())

    @app.get(OIDC + "/certs")
    async def certs() -> JSONResponse:
        return JSONResponse(sim.jwks())

    @app.get(OIDC + "/auth")
    async def authorize(request: Request) -> Response:
        q = request.query_params
        data = {
            k: q.get(k)
            for k in (
                "client_id",
                "redirect_uri",
                "acr_values",
                "scope",
                "code_challenge_method",
                "response_type",
            )
        }
        injected = await fault_response("authorize")
        if injected is not None:
            emit("authorize", {**data, "result": "failure", "error": "injected fault"})
            return injected
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if not sim.redirect_allowed(client_id, redirect_uri):
            # never redirect to an unregistered URI: the error is shown to the user agent (RFC 6749 §4.1.2.1)
            emit("authorize", {**data, "result": "failure", "error": "invalid_request: redirect_uri"})
            return _oauth_error("invalid_request", "unknown client or redirect_uri not registered for it")

        def back(**params: str) -> RedirectResponse:
            return RedirectResponse(
                redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params), 302
            )

        state = q.get("state", "")
        problems = [
            (q.get("response_type") != "code", "unsupported_response_type", "response_type must be code"),
            ("openid" not in q.get("scope", "").split(), "invalid_scope", "scope must include openid"),
            (
                q.get("code_challenge_method") != "S256" or not q.get("code_challenge"),
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required",
            ),
            (not q.get("nonce") or not state, "invalid_request", "state and nonce are required"),
            (q.get("acr_values") != "eidas1", "invalid_request", "acr_values must be eidas1"),
        ]
        for failed, error, description in problems:
            if failed:
                emit("authorize", {**data, "result": "failure", "error": error})
                return back(error=error, error_description=description, state=state)
        practitioner = sim.practitioner(q.get("login_hint"))
        if practitioner is None:
            emit("authorize", {**data, "result": "failure", "error": "login_required"})
            return back(error="login_required", error_description="unknown practitioner", state=state)
        code = secrets.token_urlsafe(24)
        sim._grants[code] = _Grant(
            client_id,
            redirect_uri,
            q["nonce"],
            q["code_challenge"],
            practitioner,
            time.time() + sim.code_ttl_s,
        )
        emit(
            "authorize",
            {**data, "result": "success", "rpps": practitioner.rpps, "misbehave": sorted(sim.misbehave)},
        )
        return back(code=code, state="altered-" + state if "state" in sim.misbehave else state)

    def client_of(request: Request, form: Any) -> tuple[str, str]:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                return client_id, secret
            except (ValueError, UnicodeDecodeError):
                return "", ""
        return str(form.get("client_id", "")), str(form.get("client_secret", ""))

    @app.post(OIDC + "/token")
    async def token(request: Request) -> Response:
        form = await _form(request)
        grant_type = str(form.get("grant_type", ""))
        client_id, secret = client_of(request, form)
        data = {"client_id": client_id, "grant_type": grant_type}
        injected = await fault_response("token")
        if injected is not None:
            emit("token", {**data, "result": "failure", "error": "injected fault"})
            return injected
        client = sim.clients.get(client_id)
        if client is None or not secrets.compare_digest(str(client.get("secret", "")), secret):
            emit("token", {**data, "result": "failure", "error": "invalid_client"})
            return _oauth_error("invalid_client", "unknown client or wrong secret", 401)
        now = int(time.time())
        if grant_type == EXCHANGE:
            try:
                subject = sim.verify(str(form.get("subject_token", "")))
            except jwt.PyJWTError as error:
                emit("token", {**data, "result": "failure", "error": "invalid_grant"})
                return _oauth_error("invalid_grant", f"subject_token: {error}")
            exchanged = sim.sign(
                {
                    "iss": sim.issuer,
                    "sub": subject["sub"],
                    "aud": str(form.get("audience") or "edc-psc"),
                    "iat": now,
                    "exp": now + int(sim.token_ttl_s),
                    "token_use": "psc_trust_space",
                    "SubjectNameID": subject.get("SubjectNameID"),
                }
            )
            answer = {
                "access_token": exchanged,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer",
                "expires_in": int(sim.token_ttl_s),
            }
            emit(
                "token",
                {**data, "result": "success", "token_kind": "psc_trust_space"},
                json.dumps(answer).encode(),
            )
            return JSONResponse(answer)
        if grant_type != "authorization_code":
            emit("token", {**data, "result": "failure", "error": "unsupported_grant_type"})
            return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r}")
        code = str(form.get("code", ""))
        grant = sim._grants.pop(code, None)
        problem = None
        if code in sim._used_codes:
            problem = "code already used"
        elif grant is None:
            problem = "unknown code"
        elif grant.expires < time.time():
            problem = "code expired"
        elif grant.client_id != client_id or grant.redirect_uri != str(form.get("redirect_uri", "")):
            problem = "client_id or redirect_uri differ from the authorization request"
        elif _s256(str(form.get("code_verifier", ""))) != grant.challenge:
            problem = "PKCE code_verifier does not match the code_challenge"
        sim._used_codes.add(code)
        if problem:
            emit("token", {**data, "result": "failure", "error": f"invalid_grant: {problem}"})
            return _oauth_error("invalid_grant", problem)
        practitioner = grant.practitioner
        claims = practitioner.userinfo()
        access = sim.sign(
            {
                "iss": sim.issuer,
                "sub": claims["sub"],
                "aud": client_id,
                "iat": now,
                "exp": now + int(sim.token_ttl_s),
                "scope": "openid scope_all",
                "SubjectNameID": practitioner.subject_name_id,
                "azp": client_id,
            }
        )
        id_token = sim.sign(
            {
                "iss": sim.issuer,
                "sub": claims["sub"],
                "aud": client_id,
                "iat": now,
                "auth_time": now,
                "exp": now + int(sim.token_ttl_s),
                "acr": "eidas2" if "acr" in sim.misbehave else "eidas1",
                "nonce": "altered-" + grant.nonce if "nonce" in sim.misbehave else grant.nonce,
                "preferred_username": practitioner.subject_name_id,
            },
            rogue="signature" in sim.misbehave,
        )
        answer = {
            "access_token": access,
            "id_token": id_token,
            "token_type": "Bearer",
            "expires_in": int(sim.token_ttl_s),
            "scope": "openid scope_all",
        }
        emit("token", {**data, "result": "success", "rpps": practitioner.rpps}, json.dumps(answer).encode())
        return JSONResponse(answer)

    @app.get(OIDC + "/userinfo")
    async def userinfo(request: Request) -> Response:
        injected = await fault_response("userinfo")
        if injected is not None:
            emit("userinfo", {"result": "failure", "error": "injected fault"})
            return injected
        auth = request.headers.get("authorization", "")
        try:
            claims = sim.verify(auth[7:]) if auth.lower().startswith("bearer ") else None
        except jwt.PyJWTError as error:
            emit("userinfo", {"result": "failure", "error": f"invalid_token: {error}"})
            return _oauth_error("invalid_token", str(error), 401)
        if claims is None:
            emit("userinfo", {"result": "failure", "error": "invalid_token: no bearer token"})
            return _oauth_error("invalid_token", "a Bearer access token is required", 401)
        practitioner = sim.practitioner(str(claims.get("SubjectNameID", "")))
        info = practitioner.userinfo() if practitioner else {"sub": claims["sub"]}
        emit("userinfo", {"client_id": claims.get("azp"), "result": "success"}, json.dumps(info).encode())
        if "application/jwt" in request.headers.get("accept", ""):
            now = int(time.time())
            return Response(
                sim.sign({**info, "iss": sim.issuer, "aud": claims.get("azp"), "iat": now}),
                media_type="application/jwt",
            )
        return JSONResponse(info)

    return app
