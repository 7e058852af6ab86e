"""The contextual call (appel contextuel) from a hospital record (DPI) to the DCC (seed 002).

No national specification fixes its format, so this harness defines one (``docs/simulators.md``): a JWT signed
HS256 with a secret shared between the DPI and the DCC, valid ``ttl`` seconds (120 by default), single-use through
its ``jti``, delivered as ``<dcc>/contextual?token=<jwt>``. Claims:

- ``iss`` the DPI's id, ``aud`` the DCC's id, ``iat``, ``nbf``, ``exp``, ``jti``;
- ``sub`` the user's IdNat PS (``"8" + RPPS``), ``user`` {``idnat``, ``rpps``, ``family``, ``given``};
- ``mode``: ``open`` (open the DCC on the patient) or ``prefill`` (pre-fill an administrative form for a patient
  unknown to the DCC);
- ``patient`` {``ins``, ``ins_oid`` (only when the identity is qualifiée), ``ipp``, ``ipp_oid``,
  ``identity_status``, ``traits`` {``nom_naissance``, ``prenoms`` (list), ``prenom_utilise``, ``nom_utilise``,
  ``sexe`` (M/F), ``date_naissance`` (YYYY-MM-DD), ``lieu_naissance`` (COG)}}.

:func:`verify_token` is the reference check a receiving DCC performs; the reference DCC writes its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, MutableSet
from typing import Any
from urllib.parse import urlencode

import jwt

ALGORITHM = "HS256"
DEFAULT_TTL_S = 120
MODES = ("open", "prefill")


class ContextualCallError(ValueError):
    """A contextual-call token refused; the message names the claim."""


def issue_token(
    *,
    secret: str,
    issuer: str,
    audience: str,
    user: dict[str, Any],
    patient: dict[str, Any],
    mode: str = "open",
    ttl: int = DEFAULT_TTL_S,
    now: float | None = None,
    jti: str | None = None,
) -> tuple[str, dict[str, Any]]:
    if mode not in MODES:
        raise ContextualCallError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    if not user.get("idnat"):
        raise ContextualCallError("user.idnat: required (the IdNat PS, '8' + RPPS)")
    if not (patient.get("ins") or patient.get("ipp")):
        raise ContextualCallError("patient: an INS or an IPP is required")
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": jti or str(uuid.uuid4()),
        "sub": user["idnat"],
        "user": user,
        "patient": patient,
        "mode": mode,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), claims


def contextual_url(dcc_base: str, token: str) -> str:
    return f"{dcc_base.rstrip('/')}/contextual?{urlencode({'token': token})}"


def verify_token(
    token: str,
    *,
    secret: str,
    audience: str,
    used_jti: MutableSet[str],
    clock: Callable[[], float] = time.time,
    leeway: int = 5,
) -> dict[str, Any]:
    """Signature, audience, expiry and single use; raises :class:`ContextualCallError` naming the claim."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "iat", "jti", "sub", "aud", "iss"], "verify_exp": False},
        )
    except jwt.InvalidAudienceError:
        raise ContextualCallError("aud: not this DCC") from None
    except jwt.MissingRequiredClaimError as error:
        raise ContextualCallError(f"{error.claim}: missing") from None
    except jwt.InvalidTokenError as error:
        raise ContextualCallError(f"token: {error}") from None
    if clock() > claims["exp"] + leeway:
        raise ContextualCallError("exp: the token has expired")
    if claims["jti"] in used_jti:
        raise ContextualCallError("jti: the token was already used (single use)")
    if claims.get("mode") not in MODES:
        raise ContextualCallError(f"mode: {claims.get('mode')!r} is not one of {', '.join(MODES)}")
    used_jti.add(claims["jti"])
    return claims
