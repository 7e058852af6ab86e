"""User accounts: local accounts created by an administrator, and professionals' accounts created or updated from
what Pro Santé Connect (or a contextual call) says about them, found by RPPS so that the same person has one
account whatever the way in (AUTH.04 correlates a contextual login and the PSC login that follows)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit
from dcc.auth.roles import check_role
from dcc.db.models_auth import UserAccount

USERNAME = re.compile(r"^[A-Za-z0-9._@-]{3,64}$")
RPPS = re.compile(r"^\d{11}$")


def _now() -> datetime:
    return datetime.now(UTC)


def by_username(session: Session, username: str) -> UserAccount | None:
    return session.scalars(select(UserAccount).where(UserAccount.username == username)).first()


def by_rpps(session: Session, rpps: str) -> UserAccount | None:
    return session.scalars(select(UserAccount).where(UserAccount.rpps == rpps)).first()


def snapshot(account: UserAccount) -> dict[str, Any]:
    """What the audit log keeps of an account (never the password hash or the TOTP secret)."""
    return {
        "username": account.username,
        "role": account.role,
        "rpps": account.rpps,
        "user_kind": account.user_kind,
        "finess": account.finess,
        "active": account.active,
        "locked": account.locked_at is not None,
    }


def create_account(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    actor: str,
    user_kind: str = "etablissement",
    rpps: str | None = None,
    finess: str | None = None,
    activities: list[dict[str, Any]] | None = None,
) -> UserAccount:
    """A new account (no credential yet: see :func:`dcc.auth.local.set_credentials`). Checks before writing."""
    if not USERNAME.match(username):
        raise ValueError(f"username {username!r}: 3 to 64 letters, digits or . _ @ -")
    check_role(role)
    if user_kind not in ("liberal", "etablissement"):
        raise ValueError(f"user_kind {user_kind!r}: liberal or etablissement")
    if rpps is not None and not RPPS.match(rpps):
        raise ValueError(f"rpps {rpps!r}: 11 digits")
    if by_username(session, username) is not None:
        raise ValueError(f"username {username!r}: already taken")
    if rpps is not None and by_rpps(session, rpps) is not None:
        raise ValueError(f"rpps {rpps}: already has an account")
    account = UserAccount(
        username=username,
        display_name=display_name,
        role=role,
        rpps=rpps,
        user_kind=user_kind,
        finess=finess,
        activities=activities,
        failed_attempts=0,
        active=True,
        created_at=_now(),
    )
    session.add(account)
    session.flush()
    audit.record(session, actor, "user.created", "user", username, None, snapshot(account))
    return account


def professional(
    session: Session,
    rpps: str,
    display_name: str,
    role: str,
    user_kind: str,
    finess: str | None,
    activities: list[dict[str, Any]] | None,
    actor: str,
) -> UserAccount:
    """The account of the professional with this RPPS: created at first sight (username = IdNat PS, ``"8"+RPPS``),
    else its situations d'exercice refreshed from the identity provider (the role stays the one it has)."""
    account = by_rpps(session, rpps)
    if account is None:
        return create_account(
            session,
            "8" + rpps,
            display_name,
            role,
            actor,
            user_kind=user_kind,
            rpps=rpps,
            finess=finess,
            activities=activities,
        )
    if activities is not None and (account.activities != activities or account.finess != finess):
        before = snapshot(account)
        account.activities, account.finess = activities, finess
        session.flush()
        audit.record(session, actor, "user.updated", "user", account.username, before, snapshot(account))
    return account
