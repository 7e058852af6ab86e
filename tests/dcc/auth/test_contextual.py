"""Contextual call from the hospital record (AUTH.05, AUTH.04): tokens issued by the DPI simulator's own issuer,
verified by the DCC's separate implementation — signature, audience, issuer, expiry, lifetime, single use — and a
DMP action after a contextual login asks for Pro Santé Connect."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from dcc import faults
from dcc.auth import access, contextual, sessions
from dcc.auth.errors import PscRequired
from dcc.auth.psc import PscClient
from harness.simulators.dpi.contextual import issue_token
from tests.dcc.auth.conftest import SECRET, journal, patient, psc_round_trip, settings_for

pytestmark = pytest.mark.persistence
USER = {"idnat": "810001234567", "rpps": "10001234567", "family": "MEDECIN", "given": "Alice"}


def token(secret: str = SECRET, **over) -> tuple[str, dict]:
    values = dict(
        secret=secret,
        issuer="dpi-simule",
        audience="dcc",
        user=USER,
        patient={"ins": "160017512345678", "ipp": "IPP1"},
    )
    values.update(over)
    return issue_token(**values)


def test_contextual_login_opens_a_session_and_the_patient(session):
    known = patient(session)
    known.ins_matricule = "160017512345678"
    session.flush()
    jwt_token, claims = token()
    result = contextual.login(session, settings_for(), jwt_token)
    assert result.ok, result.reason
    assert result.opened.row.method == "contextual" and result.opened.account.rpps == "10001234567"
    assert result.opened.row.context["patient_id"] == str(known.id)
    assert access.is_member(session, known.id, result.opened.account)  # the establishment vouches
    login = journal(session, "user.login")[-1]
    assert (login["method"], login["result"], login["jti"]) == ("contextual", "success", claims["jti"])


def test_replay_is_refused(session):
    jwt_token, claims = token()
    assert contextual.login(session, settings_for(), jwt_token).ok
    replay = contextual.login(session, settings_for(), jwt_token)
    assert replay.reason == "replayed"
    event = journal(session, "user.login")[-1]
    assert (event["reason"], event["jti"]) == ("replayed", claims["jti"])  # AUTH.05 correlates on jti


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: token(secret="another secret entirely, of 32 bytes or more")[0], "bad_signature"),
        (lambda: token(now=time.time() - 600)[0], "expired"),
        (lambda: token(audience="another-dcc")[0], "bad_audience"),
        (lambda: token(issuer="unknown-dpi")[0], "bad_issuer"),
        (lambda: token(ttl=3600)[0], "ttl_too_long"),
        (lambda: token(now=time.time() + 600)[0], "not_yet_valid"),
        (lambda: "not.a.jwt", "malformed"),
    ],
)
def test_bad_tokens_are_refused(session, make, reason):
    result = contextual.login(session, settings_for(), make())
    assert result.reason == reason
    assert journal(session, "user.login")[-1]["reason"] == reason


def test_disabled_without_a_shared_secret(session):
    assert (
        contextual.login(session, settings_for(contextual_secret=None), token()[0]).reason
        == "contextual_disabled"
    )


def test_dmp_after_contextual_login_asks_for_psc(session, psc_sim):
    opened = contextual.login(session, settings_for(), token()[0]).opened
    with pytest.raises(PscRequired, match="psc_login_required_after_contextual") as raised:
        sessions.require_psc_for_dmp(opened.row)
    assert raised.value.reason == "psc_login_required_after_contextual"
    again = psc_round_trip(PscClient(settings_for(psc_sim)), session, "10001234567")
    assert again.opened.account.id == opened.account.id  # same user_id: AUTH.04 correlates the two logins
    assert sessions.require_psc_for_dmp(again.opened.row)


def test_password_session_and_expired_psc_token_ask_for_psc_too(session, psc_sim):
    again = psc_round_trip(PscClient(settings_for(psc_sim)), session)
    later = datetime.now(UTC).replace(year=2100)
    with pytest.raises(PscRequired, match="psc_token_expired"):
        sessions.require_psc_for_dmp(again.opened.row, now=later)
    again.opened.row.method = "password_otp"
    with pytest.raises(PscRequired, match="psc_login_required"):
        sessions.require_psc_for_dmp(again.opened.row)


# -- faults ------------------------------------------------------------------------------------------------------
def test_fault_contextual_replay_accepted(session):
    jwt_token, _ = token()
    assert contextual.login(session, settings_for(), jwt_token).ok
    with faults.enabled(contextual.CONTEXTUAL_REPLAY_ACCEPTED):
        assert contextual.login(session, settings_for(), jwt_token).ok


def test_fault_contextual_signature_not_checked(session):
    forged, _ = token(secret="forged by someone else, long enough for HS256")
    with faults.enabled(contextual.CONTEXTUAL_SIGNATURE_NOT_CHECKED):
        assert contextual.login(session, settings_for(), forged).ok


def test_fault_contextual_dmp_without_psc(session):
    opened = contextual.login(session, settings_for(), token()[0]).opened
    with faults.enabled(sessions.CONTEXTUAL_DMP_WITHOUT_PSC):
        sessions.require_psc_for_dmp(opened.row)  # no PscRequired: AUTH.04 broken


def test_a_short_shared_secret_is_refused(session):
    assert contextual.login(session, settings_for(contextual_secret="short"), token()[0]).reason == (
        "contextual_disabled"
    )
