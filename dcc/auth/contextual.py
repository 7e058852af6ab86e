"""Login by a contextual call from a hospital record (DPI, seed 002; AUTH.05, AUTH.04).

The token format is the harness's (``docs/simulators.md``): a JWT signed HS256 with a secret shared with the DPI,
``iss`` one of the DPIs we trust, ``aud`` this DCC, short-lived (``exp``, and ``exp − iat`` at most
``contextual_max_ttl_s``), single use through its ``jti`` (kept in ``contextual_jti`` until it expires), ``sub`` the
user's IdNat PS, ``mode`` ``open`` or ``prefill`` and the ``patient``. The check is written here again, from the
format, not imported: the DCC never imports the harness.

A contextual session is a convenience, not a strong authentication of its own: it may read and write in the DCC
like the user's role allows, but any DMP action asks for a Pro Santé Connect login first
(:func:`dcc.auth.sessions.require_psc_for_dmp`). The establishment vouches, by its signed call, that the user
cares for the patient: an ``open`` call on a patient the DCC knows puts the user in the patient's care team.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dcc import events, faults
from dcc.auth import access, accounts
from dcc.auth.config import AuthSettings
from dcc.auth.errors import LoginRefused
from dcc.auth.local import LoginResult
from dcc.auth.sessions import open_session
from dcc.db.models import Patient
from dcc.db.models_auth import ContextualJti

CONTEXTUAL_REPLAY_ACCEPTED = "contextual_replay_accepted"
CONTEXTUAL_SIGNATURE_NOT_CHECKED = "contextual_signature_not_checked"
faults.register(
    CONTEXTUAL_REPLAY_ACCEPTED, "a contextual-call token is accepted again (jti not kept)", ["AUTH.05"]
)
faults.register(
    CONTEXTUAL_SIGNATURE_NOT_CHECKED,
    "a contextual-call token whose signature does not verify is accepted",
    ["AUTH.05"],
)

METHOD = "contextual"
ALGORITHM = "HS256"
MODES = ("open", "prefill")
LEEWAY_S = 5
MIN_SECRET_BYTES = 32


def verify(settings: AuthSettings, token: str, now: datetime) -> dict[str, Any]:
    """The token's claims when signature, issuer, audience, lifetime and mode hold; raises :class:`LoginRefused`.
    Single use is checked by :func:`login` (it needs the database)."""
    if not settings.contextual_secret:
        raise LoginRefused(
            "contextual_disabled", "no DCC_CONTEXTUAL_SECRET: contextual calls are not accepted"
        )
    if len(settings.contextual_secret.encode()) < MIN_SECRET_BYTES:
        raise LoginRefused(
            "contextual_disabled", f"DCC_CONTEXTUAL_SECRET: {MIN_SECRET_BYTES} bytes at least (RFC 7518 §3.2)"
        )
    verify_signature = not faults.active(CONTEXTUAL_SIGNATURE_NOT_CHECKED)
    try:
        claims = jwt.decode(
            token,
            settings.contextual_secret,
            algorithms=[ALGORITHM],
            audience=settings.contextual_audience,
            leeway=LEEWAY_S,
            options={
                "verify_signature": verify_signature,
                "verify_aud": True,
                "verify_exp": False,
                "verify_nbf": True,
                "verify_iat": True,
                "require": ["iss", "aud", "exp", "iat", "jti", "sub"],
            },
        )
    except jwt.InvalidSignatureError:
        raise LoginRefused("bad_signature", "token: the signature does not verify") from None
    except jwt.InvalidAudienceError:
        raise LoginRefused("bad_audience", "aud: not this DCC") from None
    except jwt.MissingRequiredClaimError as error:
        raise LoginRefused("missing_claim", f"{error.claim}: missing") from None
    except jwt.ImmatureSignatureError:
        raise LoginRefused("not_yet_valid", "nbf/iat: the token is not valid yet") from None
    except jwt.PyJWTError as error:
        raise LoginRefused("malformed", f"token: {error}") from None
    timestamp = now.timestamp()
    if not isinstance(claims["exp"], int | float) or not isinstance(claims["iat"], int | float):
        raise LoginRefused("malformed", "exp, iat: numbers expected")
    if timestamp > claims["exp"] + LEEWAY_S:
        raise LoginRefused("expired", "exp: the token has expired")
    if claims["exp"] - claims["iat"] > settings.contextual_max_ttl_s:
        raise LoginRefused("ttl_too_long", f"exp − iat > {settings.contextual_max_ttl_s} s")
    if claims["iss"] not in settings.contextual_issuers:
        raise LoginRefused("bad_issuer", f"iss {claims['iss']!r}: not a hospital record this DCC trusts")
    if claims.get("mode") not in MODES:
        raise LoginRefused("bad_mode", f"mode {claims.get('mode')!r}: one of {', '.join(MODES)}")
    sub = str(claims["sub"])
    if not (sub.startswith("8") and accounts.RPPS.match(sub[1:])):
        raise LoginRefused("malformed", f"sub {sub!r}: the IdNat PS ('8' + RPPS) expected")
    return claims


def _consume(session: Session, claims: dict[str, Any], now: datetime) -> None:
    """Marks the jti used; a second use is a replay. The insert runs in a savepoint, so two workers racing on the
    same token cannot both succeed and the caller's transaction survives the loser's unique violation."""
    jti = str(claims["jti"])
    session.execute(delete(ContextualJti).where(ContextualJti.expires_at < now))
    if faults.active(CONTEXTUAL_REPLAY_ACCEPTED):
        return
    if session.scalars(select(ContextualJti).where(ContextualJti.jti == jti)).first() is not None:
        raise LoginRefused("replayed", f"jti {jti}: the contextual call was already used (single use)")
    expires = datetime.fromtimestamp(float(claims["exp"]) + LEEWAY_S, UTC)
    try:
        with session.begin_nested():
            session.add(ContextualJti(jti=jti, issuer=str(claims["iss"]), expires_at=expires, used_at=now))
    except IntegrityError:
        raise LoginRefused(
            "replayed", f"jti {jti}: the contextual call was already used (single use)"
        ) from None


def _patient(session: Session, claims: dict[str, Any]) -> Patient | None:
    patient = claims.get("patient") if isinstance(claims.get("patient"), dict) else {}
    ins = patient.get("ins")
    if not ins:
        return None
    return session.scalars(select(Patient).where(Patient.ins_matricule == str(ins))).first()


def login(session: Session, settings: AuthSettings, token: str, now: datetime | None = None) -> LoginResult:
    now = now or datetime.now(UTC)
    jti = None
    user_id = None
    try:
        try:
            jti = jwt.decode(token, options={"verify_signature": False}).get("jti")
        except jwt.PyJWTError:
            jti = None
        claims = verify(settings, token, now)
        user_id = str(claims["sub"])
        _consume(session, claims, now)
        user = claims.get("user") if isinstance(claims.get("user"), dict) else {}
        name = " ".join(str(user.get(k) or "") for k in ("given", "family")).strip()
        account = accounts.professional(
            session,
            user_id[1:],
            name or user_id,
            settings.contextual_default_role,
            "etablissement",
            None,
            None,
            actor=str(claims["iss"]),
        )
        if not account.active or account.locked_at is not None:
            raise LoginRefused("locked", "the account is locked or disabled")
    except LoginRefused as refused:
        events.emit(
            session,
            "user.login",
            user_id=user_id,
            method=METHOD,
            acr=None,
            result="failure",
            reason=refused.reason,
            jti=jti,
            detail=str(refused),
        )
        return LoginResult(None, refused.reason, user_id)
    patient = _patient(session, claims) if claims["mode"] == "open" else None
    context = {
        "mode": claims["mode"],
        "issuer": claims["iss"],
        "patient": claims.get("patient"),
        "patient_id": str(patient.id) if patient is not None else None,
    }
    opened = open_session(
        session,
        settings,
        account,
        METHOD,
        now=now,
        context=context,
        jti=str(claims["jti"]),
        issuer=claims["iss"],
        mode=claims["mode"],
        patient_id=context["patient_id"],
    )
    if patient is not None:
        access.add_member(session, patient.id, account, "contextual", actor=str(claims["iss"]))
    return LoginResult(opened, None, account.username)
