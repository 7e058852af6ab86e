"""Settings of authentication, read from the environment when asked (never at import), so a test or the harness's
in-process target can pass its own :class:`AuthSettings` instead.

| variable | meaning | default |
|---|---|---|
| ``DCC_PSC_URL`` | Pro Santé Connect discovery URL (or the issuer: ``/.well-known/…`` is appended) | none: PSC off |
| ``DCC_PSC_CLIENT_ID`` / ``DCC_PSC_CLIENT_SECRET`` | the DCC's client at PSC | ``dcc-recette`` / none |
| ``DCC_PSC_REDIRECT_URI`` | the callback registered at PSC | ``<request base>/auth/psc/callback`` |
| ``DCC_CONTEXTUAL_SECRET`` | HS256 key shared with the hospital records (DPI) | none: contextual calls off |
| ``DCC_CONTEXTUAL_AUDIENCE`` / ``DCC_CONTEXTUAL_ISSUERS`` | this DCC's id / the DPI ids accepted (comma list) | ``dcc`` / ``dpi-simule`` |
| ``DCC_CGU_VERSION`` | the CGU version in force | ``1`` |
| ``DCC_LOCKOUT_THRESHOLD`` | consecutive failures that lock a local account | ``5`` |
| ``DCC_SESSION_TTL_S`` / ``DCC_SESSION_IDLE_S`` | session lifetime / idle timeout | ``28800`` / ``1800`` |
| ``DCC_COOKIE_SECURE`` | set the session cookie ``Secure`` (off only for loopback tests) | ``1`` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: an integer is expected") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r}: a positive integer is expected")
    return value


@dataclass(frozen=True)
class AuthSettings:
    psc_url: str | None = None
    psc_client_id: str = "dcc-recette"
    psc_client_secret: str | None = None
    psc_redirect_uri: str | None = None
    contextual_secret: str | None = None
    contextual_audience: str = "dcc"
    contextual_issuers: tuple[str, ...] = ("dpi-simule",)
    contextual_max_ttl_s: int = (
        300  # a contextual call is a hand-over, not a credential: refuse long-lived ones
    )
    contextual_default_role: str = "medecin"
    cgu_version: str = "1"
    lockout_threshold: int = 5
    session_ttl_s: int = 8 * 3600
    session_idle_s: int = 1800
    cookie_secure: bool = True
    psc_leeway_s: int = 30
    http_timeout_s: float = 10.0

    @property
    def psc_discovery_url(self) -> str | None:
        if not self.psc_url:
            return None
        url = self.psc_url.rstrip("/")
        return url if "/.well-known/" in url else url + "/.well-known/openid-configuration"

    @classmethod
    def from_env(cls) -> AuthSettings:
        env = os.environ
        issuers = tuple(
            i.strip() for i in env.get("DCC_CONTEXTUAL_ISSUERS", "dpi-simule").split(",") if i.strip()
        )
        return cls(
            psc_url=env.get("DCC_PSC_URL", "").strip() or None,
            psc_client_id=env.get("DCC_PSC_CLIENT_ID", "dcc-recette").strip() or "dcc-recette",
            psc_client_secret=env.get("DCC_PSC_CLIENT_SECRET") or None,
            psc_redirect_uri=env.get("DCC_PSC_REDIRECT_URI", "").strip() or None,
            contextual_secret=env.get("DCC_CONTEXTUAL_SECRET") or None,
            contextual_audience=env.get("DCC_CONTEXTUAL_AUDIENCE", "dcc").strip() or "dcc",
            contextual_issuers=issuers,
            cgu_version=env.get("DCC_CGU_VERSION", "1").strip() or "1",
            lockout_threshold=_int("DCC_LOCKOUT_THRESHOLD", 5),
            session_ttl_s=_int("DCC_SESSION_TTL_S", 8 * 3600),
            session_idle_s=_int("DCC_SESSION_IDLE_S", 1800),
            cookie_secure=env.get("DCC_COOKIE_SECURE", "1").strip() not in ("0", "false", "no"),
        )
