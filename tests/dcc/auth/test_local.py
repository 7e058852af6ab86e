"""Identifiant + mot de passe + TOTP (AUTH.01, AUTH.02): argon2 hashes, TOTP with replay refused, lockout, never
the password alone; each fault shown to change the behaviour. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from dcc import faults
from dcc.auth import local
from dcc.db.models_auth import UserAccount
from tests.dcc.auth.conftest import PASSWORD, journal, local_account, settings_for

pytestmark = pytest.mark.persistence
NOW = datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)


def code(account: UserAccount, at: datetime) -> str:
    return pyotp.TOTP(account.totp_secret).at(at)


def test_enrolment_stores_argon2_and_gives_an_otpauth_uri(session):
    account, uri = local_account(session, "alice")
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert uri.startswith("otpauth://totp/") and f"secret={account.totp_secret}" in uri
    with pytest.raises(ValueError, match="at least 12"):
        local.set_credentials(session, account, "short", "admin")


def test_password_and_totp_open_a_session(session):
    account, _ = local_account(session, "bob")
    result = local.login(session, settings_for(), "bob", PASSWORD, code(account, NOW), now=NOW)
    assert result.ok and result.opened.row.method == "password_otp"
    login = journal(session, "user.login")[-1]
    assert (
        login["method"] == "password_otp" and login["result"] == "success" and login["otp_verified"] is True
    )
    assert login["user_id"] == "bob"


def test_password_alone_wrong_otp_and_wrong_password_are_refused(session):
    account, _ = local_account(session, "carol")
    settings = settings_for(lockout_threshold=10)
    assert local.login(session, settings, "carol", PASSWORD, None, now=NOW).reason == "otp_required"
    assert local.login(session, settings, "carol", PASSWORD, "000000", now=NOW).reason in ("bad_otp",)
    assert local.login(session, settings, "carol", "wrong password!", code(account, NOW), now=NOW).reason == (
        "bad_password"
    )
    assert local.login(session, settings, "nobody", PASSWORD, "123456", now=NOW).reason == "unknown_user"
    failures = [e for e in journal(session, "user.login") if e["result"] == "failure"]
    assert [e["reason"] for e in failures[-4:]] == ["otp_required", "bad_otp", "bad_password", "unknown_user"]
    assert all(e["otp_verified"] is False for e in failures)


def test_replayed_totp_is_refused_and_named(session):
    account, _ = local_account(session, "dave")
    otp = code(account, NOW)
    assert local.login(session, settings_for(), "dave", PASSWORD, otp, now=NOW).ok
    replay = local.login(session, settings_for(), "dave", PASSWORD, otp, now=NOW + timedelta(seconds=5))
    assert replay.reason == "otp_replayed"
    event = journal(session, "user.login")[-1]
    assert event["otp"] == otp and event["result"] == "failure"  # AUTH.02 correlates on the code
    older = code(account, NOW - timedelta(seconds=30))  # an earlier step, still within the drift window
    assert local.login(session, settings_for(), "dave", PASSWORD, older, now=NOW).reason == "otp_replayed"
    assert local.login(
        session,
        settings_for(),
        "dave",
        PASSWORD,
        code(account, NOW + timedelta(seconds=30)),
        now=NOW + timedelta(seconds=30),
    ).ok


def test_repeated_failures_lock_the_account_until_unlocked(session):
    account, _ = local_account(session, "erin")
    settings = settings_for(lockout_threshold=3)
    for _ in range(3):
        assert not local.login(session, settings, "erin", "not the password", None, now=NOW).ok
    assert account.locked_at is not None
    assert journal(session, "user.locked")[-1]["user_id"] == "erin"
    # the right password and code no longer open anything
    assert local.login(session, settings, "erin", PASSWORD, code(account, NOW), now=NOW).reason == "locked"
    local.unlock(session, account, "admin")
    assert local.login(session, settings, "erin", PASSWORD, code(account, NOW), now=NOW).ok


def test_success_resets_the_failure_count(session):
    account, _ = local_account(session, "fred")
    settings = settings_for(lockout_threshold=3)
    for _ in range(2):
        local.login(session, settings, "fred", "not the password", None, now=NOW)
    assert local.login(session, settings, "fred", PASSWORD, code(account, NOW), now=NOW).ok
    assert account.failed_attempts == 0
    for _ in range(2):
        local.login(session, settings, "fred", "not the password", None, now=NOW)
    assert account.locked_at is None


# -- faults ------------------------------------------------------------------------------------------------------
def test_fault_totp_replay_accepted(session):
    account, _ = local_account(session, "gina")
    otp = code(account, NOW)
    assert local.login(session, settings_for(), "gina", PASSWORD, otp, now=NOW).ok
    with faults.enabled(local.TOTP_REPLAY_ACCEPTED):
        assert local.login(session, settings_for(), "gina", PASSWORD, otp, now=NOW).ok


def test_fault_no_lockout(session):
    account, _ = local_account(session, "hugo")
    with faults.enabled(local.NO_LOCKOUT):
        for _ in range(6):
            local.login(session, settings_for(lockout_threshold=3), "hugo", "nope nope nope", None, now=NOW)
    assert account.locked_at is None and account.failed_attempts == 6
    assert not [e for e in journal(session, "user.locked") if e["user_id"] == "hugo"]


def test_fault_password_only_accepted(session):
    local_account(session, "ines")
    with faults.enabled(local.PASSWORD_ONLY_ACCEPTED):
        result = local.login(session, settings_for(), "ines", PASSWORD, None, now=NOW)
    assert result.ok
    event = journal(session, "user.login")[-1]
    assert event["result"] == "success" and event["otp_verified"] is False  # what AUTH.01 forbids
