"""Roles, care teams and the CGU gate (CGU.01–03): who reads and writes which patient, every access journaled and
audited, and a login that asks for the CGU at first access, after a year and on a new version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from dcc import audit, faults
from dcc.auth import access, accounts, local, sessions
from dcc.auth.errors import AccessDenied
from dcc.services import cgu
from tests.dcc.auth.conftest import PASSWORD, journal, local_account, patient, settings_for

pytestmark = pytest.mark.persistence


def login(session, account, settings=None, now=None):
    now = now or datetime.now(UTC)
    otp = pyotp.TOTP(account.totp_secret).at(now)
    account.totp_last_step = None  # each helper call is a fresh, non-replayed code
    return local.login(session, settings or settings_for(), account.username, PASSWORD, otp, now=now)


def test_first_login_requires_the_cgu_then_access_follows_the_team(session):
    settings = settings_for()
    doctor, _ = local_account(session, "dr-team")
    outsider, _ = local_account(session, "dr-outside")
    record = patient(session)
    opened = login(session, doctor).opened
    assert opened.cgu_required == "first_access" and opened.row.cgu_pending
    required = journal(session, "cgu.required")[-1]
    assert required == {"user_id": "dr-team", "reason": "first_access", "cgu_version": settings.cgu_version}
    access.add_member(session, record.id, doctor, "referent", actor="admin")
    with pytest.raises(AccessDenied, match="cgu_required"):
        access.access_patient(session, settings, doctor, record.id)
    sessions.cgu_accepted(session, settings, opened.row, doctor)
    assert not opened.row.cgu_pending and journal(session, "cgu.accepted")[-1]["user_id"] == "dr-team"
    assert access.access_patient(session, settings, doctor, record.id, "write").id == record.id
    accessed = journal(session, "patient.accessed")[-1]
    assert (
        accessed["user_id"] == "dr-team"
        and accessed["cgu_accepted"] is True
        and accessed["action"] == "write"
    )
    cgu.accept(session, "dr-outside", settings.cgu_version, "etablissement")
    with pytest.raises(AccessDenied, match="not_in_care_team"):
        access.access_patient(session, settings, outsider, record.id)
    assert audit.verify(session) == []


def test_roles_limit_what_members_do(session):
    settings = settings_for()
    record = patient(session)
    for name, role in (("sec-1", "secretaire"), ("inf-1", "soignant"), ("adm-1", "administrateur")):
        account, _ = local_account(session, name, role=role)
        cgu.accept(session, name, settings.cgu_version, "etablissement")
        access.add_member(session, record.id, account, "participant", actor="admin")
    sec, inf, adm = (accounts.by_username(session, n) for n in ("sec-1", "inf-1", "adm-1"))
    assert access.access_patient(session, settings, sec, record.id, "write")
    assert access.access_patient(session, settings, inf, record.id, "read")
    with pytest.raises(AccessDenied, match="role_not_allowed"):
        access.access_patient(session, settings, inf, record.id, "write")
    with pytest.raises(AccessDenied, match="role_not_allowed"):  # administrators read no patient data
        access.access_patient(session, settings, adm, record.id, "read")
    with pytest.raises(AccessDenied, match="unknown_patient"):
        access.access_patient(session, settings, sec, 999_999)
    assert access.may_manage_team(session, record.id, adm) and not access.may_manage_team(
        session, record.id, inf
    )


def test_yearly_and_new_version_ask_again(session):
    doctor, _ = local_account(session, "dr-yearly")
    now = datetime.now(UTC)
    cgu.accept(session, "dr-yearly", "1", "etablissement", now=now - timedelta(days=400))
    opened = login(session, doctor, now=now).opened
    assert opened.cgu_required == "yearly"
    assert journal(session, "user.login")[-1]["days_since_cgu"] == 400
    assert journal(session, "cgu.required")[-1]["reason"] == "yearly"
    cgu.accept(session, "dr-yearly", "1", "etablissement", now=now)
    assert login(session, doctor, now=now + timedelta(minutes=1)).opened.cgu_required is None
    opened = login(session, doctor, settings_for(cgu_version="2"), now=now + timedelta(minutes=2)).opened
    assert opened.cgu_required == "cgu_changed"
    assert journal(session, "cgu.required")[-1] == {
        "user_id": "dr-yearly",
        "reason": "cgu_changed",
        "cgu_version": "2",
    }


def test_fault_cgu_not_required_at_login(session):
    settings = settings_for()
    doctor, _ = local_account(session, "dr-nocgu")
    record = patient(session)
    access.add_member(session, record.id, doctor, "referent", actor="admin")
    before = len(journal(session, "cgu.required"))
    with faults.enabled(sessions.CGU_NOT_REQUIRED_AT_LOGIN):
        opened = login(session, doctor).opened
        assert not opened.row.cgu_pending
        access.access_patient(session, settings, doctor, record.id)
    assert len(journal(session, "cgu.required")) == before
    assert journal(session, "patient.accessed")[-1]["cgu_accepted"] is False  # what CGU.01 forbids


def test_accepting_the_cgu_is_journaled_once(session):
    doctor, _ = local_account(session, "dr-once")
    opened = login(session, doctor).opened
    sessions.cgu_accepted(session, settings_for(), opened.row, doctor)
    assert [e for e in journal(session, "cgu.accepted") if e["user_id"] == "dr-once"] == [
        {"user_id": "dr-once", "cgu_version": "1", "user_kind": "etablissement"}
    ]
