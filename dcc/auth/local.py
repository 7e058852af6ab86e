"""Local login: identifiant, mot de passe and TOTP (cahier des charges 2.2, AUTH.01, AUTH.02).

- passwords are argon2id hashes (argon2-cffi, RFC 9106 parameters), rehashed when the parameters change;
- the second factor is a TOTP (RFC 6238, 30 s, 6 digits) enrolled through an ``otpauth://`` URI (QR code); one
  step of clock drift either way is accepted, and a code is accepted once: the last accepted time step is stored,
  so the same code, or an older one, is a replay;
- a password alone never opens a session (no weaker means, AUTH.03);
- after ``lockout_threshold`` consecutive failures the account is locked (``user.locked``) until an administrator
  unlocks it. An unknown username costs the same argon2 verification as a known one.

Failures are *recorded* (``user.login`` failure, counters): the functions return a :class:`LoginResult` instead of
raising, so the caller commits the record of the refusal.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from dcc import audit, events, faults
from dcc.auth import accounts
from dcc.auth.config import AuthSettings
from dcc.auth.sessions import OpenedSession, open_session
from dcc.db.models_auth import UserAccount

TOTP_REPLAY_ACCEPTED = "totp_replay_accepted"
NO_LOCKOUT = "no_lockout"
PASSWORD_ONLY_ACCEPTED = "password_only_accepted"
faults.register(TOTP_REPLAY_ACCEPTED, "a TOTP code already used is accepted again", ["AUTH.02"])
faults.register(NO_LOCKOUT, "repeated login failures never lock the account", ["AUTH.02"])
faults.register(PASSWORD_ONLY_ACCEPTED, "a correct password without an OTP opens a session", ["AUTH.01"])

METHOD = "password_otp"
MIN_PASSWORD_LENGTH = 12  # ANSSI/PGSSI-S: 12 characters at least for a password used with a second factor
ISSUER = "DCC de référence"
_hasher = PasswordHasher()
_dummy_hash: str | None = None


@dataclass
class LoginResult:
    opened: OpenedSession | None
    reason: str | None  # None when opened
    user_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.opened is not None


def _now() -> datetime:
    return datetime.now(UTC)


def set_credentials(session: Session, account: UserAccount, password: str, actor: str) -> str:
    """Sets the password and a new TOTP secret; returns the ``otpauth://`` URI to show as a QR code (AUTH.01.02).
    A new secret forgets the last used step (a fresh enrolment)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == account.username.lower():
        raise ValueError("password: must differ from the username")
    account.password_hash = _hasher.hash(password)
    account.totp_secret = pyotp.random_base32()
    account.totp_last_step = None
    session.flush()
    audit.record(session, actor, "user.credentials_set", "user", account.username, None, {"totp": "enrolled"})
    return pyotp.TOTP(account.totp_secret).provisioning_uri(name=account.username, issuer_name=ISSUER)


def unlock(session: Session, account: UserAccount, actor: str) -> None:
    before = accounts.snapshot(account)
    account.locked_at = None
    account.failed_attempts = 0
    session.flush()
    audit.record(
        session, actor, "user.unlocked", "user", account.username, before, accounts.snapshot(account)
    )
    events.emit(session, "user.unlocked", user_id=account.username, by=actor)


def _password_ok(account: UserAccount | None, password: str) -> bool:
    global _dummy_hash
    if account is None or not account.password_hash:
        _dummy_hash = _dummy_hash or _hasher.hash("not a password of anyone")
        try:
            _hasher.verify(_dummy_hash, password)
        except VerificationError:
            pass
        return False
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return True


def totp_step(secret: str, otp: str, now: datetime) -> int | None:
    """The time step whose code is ``otp`` (now, or one step either side), else None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), otp):
            return step
    return None


def login(
    session: Session,
    settings: AuthSettings,
    username: str,
    password: str,
    otp: str | None,
    now: datetime | None = None,
) -> LoginResult:
    now = now or _now()
    account = accounts.by_username(session, username)
    otp = (otp or "").strip() or None
    password_ok = _password_ok(account, password)

    def refuse(reason: str, counts: bool = True) -> LoginResult:
        events.emit(
            session,
            "user.login",
            user_id=username,
            method=METHOD,
            acr=None,
            result="failure",
            reason=reason,
            otp=otp,
            otp_verified=False,
        )
        if account is not None and counts:
            _count_failure(session, settings, account, now)
        return LoginResult(None, reason, username)

    if account is None:
        return refuse("unknown_user")
    if not account.active:
        return refuse("account_disabled", counts=False)
    if account.locked_at is not None:
        return refuse("locked", counts=False)
    if not password_ok:
        return refuse("bad_password")
    if not account.totp_secret:
        return refuse("otp_not_enrolled")
    if otp is None:
        if faults.active(PASSWORD_ONLY_ACCEPTED):
            account.failed_attempts = 0
            opened = open_session(session, settings, account, METHOD, now=now, otp=None, otp_verified=False)
            return LoginResult(opened, None, username)
        return refuse("otp_required")
    step = totp_step(account.totp_secret, otp, now)
    if step is None:
        return refuse("bad_otp")
    if account.totp_last_step is not None and step <= account.totp_last_step:
        if not faults.active(TOTP_REPLAY_ACCEPTED):
            return refuse("otp_replayed")
    account.totp_last_step = max(step, account.totp_last_step or step)
    account.failed_attempts = 0
    opened = open_session(session, settings, account, METHOD, now=now, otp=otp, otp_verified=True)
    return LoginResult(opened, None, username)


def _count_failure(session: Session, settings: AuthSettings, account: UserAccount, now: datetime) -> None:
    account.failed_attempts = (account.failed_attempts or 0) + 1
    session.flush()
    if account.failed_attempts < settings.lockout_threshold or faults.active(NO_LOCKOUT):
        return
    before = accounts.snapshot(account)
    account.locked_at = now
    session.flush()
    audit.record(session, "dcc", "user.locked", "user", account.username, before, accounts.snapshot(account))
    events.emit(
        session,
        "user.locked",
        user_id=account.username,
        failures=account.failed_attempts,
        threshold=settings.lockout_threshold,
    )
