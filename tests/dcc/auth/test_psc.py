"""Pro Santé Connect login against the PSC simulator on a real socket (PSC.01–04): the authorisation request, the
checks of state, nonce, signature, acr and expiry (each refusal with its reason), the UserInfo mapping, and the
faults that switch each check off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dcc import faults
from dcc.auth import psc, sessions
from dcc.auth.errors import LoginRefused
from dcc.auth.psc import PscClient, map_userinfo
from tests.dcc.auth.conftest import journal, psc_round_trip, settings_for

pytestmark = pytest.mark.persistence


def client_for(sim, **over) -> PscClient:
    return PscClient(settings_for(sim, **over))


def test_authorisation_request_has_pkce_eidas1_state_and_nonce(session, psc_sim):
    client = client_for(psc_sim)
    url, pending = client.begin(session, "http://127.0.0.1:9/cb")
    query = httpx.URL(url).params
    assert query["acr_values"] == "eidas1" and query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == psc.s256(pending.code_verifier) != pending.code_verifier
    assert query["state"] == pending.state and query["nonce"] == pending.nonce and len(pending.state) >= 32
    assert set(query["scope"].split()) == {"openid", "scope_all"}


def test_login_maps_userinfo_to_the_account(session, psc_sim):
    result = psc_round_trip(client_for(psc_sim), session)
    assert result.ok, result.reason
    account = result.opened.account
    assert account.rpps == "10001234567" and account.username == "810001234567" and account.role == "medecin"
    assert account.finess == "750000001" and account.user_kind == "etablissement"
    assert account.activities[0]["savoir_faire"] == "SM54"
    login = journal(session, "user.login")[-1]
    assert (login["method"], login["result"], login["acr"], login["rpps"]) == (
        "psc",
        "success",
        "eidas1",
        "10001234567",
    )
    assert login["userinfo_called"] is True
    kinds = [(e.type, e.data.get("result")) for e in psc_sim.evidence.events]
    assert kinds == [("psc.authorize", "success"), ("psc.token", "success"), ("psc.userinfo", "success")]
    assert result.opened.row.psc_access_token  # kept for the Espace de confiance
    assert sessions.require_psc_for_dmp(result.opened.row) == result.opened.row.psc_access_token


def test_second_login_finds_the_same_account(session, psc_sim):
    first = psc_round_trip(client_for(psc_sim), session, "10007654321")
    second = psc_round_trip(client_for(psc_sim), session, "10007654321")
    assert first.opened.account.id == second.opened.account.id


@pytest.mark.parametrize(
    ("misbehave", "reason"),
    [("state", "bad_state"), ("nonce", "bad_nonce"), ("signature", "bad_signature"), ("acr", "bad_acr")],
)
def test_provider_misbehaviour_is_refused_with_its_reason(session, start_psc, misbehave, reason):
    sim = start_psc(misbehave={misbehave})
    result = psc_round_trip(client_for(sim), session)
    assert not result.ok and result.reason == reason
    login = journal(session, "user.login")[-1]
    assert (login["method"], login["result"], login["reason"]) == ("psc", "failure", reason)


def test_expired_id_token_is_refused(session, start_psc):
    sim = start_psc(token_ttl_s=-120)  # issued already expired, beyond the 30 s leeway
    assert psc_round_trip(client_for(sim), session).reason == "expired"


def test_state_is_single_use_and_expires(session, psc_sim):
    client = client_for(psc_sim)
    _, pending = client.begin(session, "http://127.0.0.1:9/cb")
    assert client.complete(session, pending.state, pending.state, "x").reason == "token_error"
    assert client.complete(session, pending.state, pending.state, "x").reason == "bad_state"  # consumed
    _, stale = client.begin(session, "http://127.0.0.1:9/cb")
    later = datetime.now(UTC) + timedelta(minutes=11)
    assert client.complete(session, stale.state, stale.state, "x", now=later).reason == "state_expired"
    assert client.complete(session, None, None, None, error="access_denied").reason == "provider_error"


def test_unreachable_provider_is_a_clear_refusal(session):
    settings = settings_for(None, psc_url="http://127.0.0.1:9/auth/realms/esante-wallet", http_timeout_s=2)
    with pytest.raises(LoginRefused, match="provider_unreachable"):
        PscClient(settings).begin(session, "http://127.0.0.1:9/cb")
    with pytest.raises(ValueError, match="DCC_PSC_URL"):
        PscClient(settings_for(None))


def test_userinfo_mapping_without_other_ids_and_without_rpps():
    mapped = map_userinfo({"SubjectNameID": "899900000001", "given_name": "A", "family_name": "B"})
    assert (
        mapped["rpps"] == "99900000001"
        and mapped["user_kind"] == "liberal"
        and mapped["display_name"] == "A B"
    )
    with pytest.raises(LoginRefused, match="no_rpps"):
        map_userinfo({"SubjectNameID": "3123"})


def test_signed_userinfo_jwt_is_verified(session, psc_sim, monkeypatch):
    client = client_for(psc_sim)
    client.userinfo_accept = "application/jwt"
    decoded = []
    original = client._decode
    monkeypatch.setattr(
        client, "_decode", lambda token, what, *a: decoded.append(what) or original(token, what, *a)
    )
    login = psc_round_trip(client, session)
    assert login.ok, login.reason
    assert decoded == ["id_token", "userinfo"] and login.opened.account.rpps == "10001234567"


# -- faults ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "misbehave"),
    [
        (psc.PSC_STATE_NOT_CHECKED, "state"),
        (psc.PSC_NONCE_NOT_CHECKED, "nonce"),
        (psc.PSC_SIGNATURE_NOT_CHECKED, "signature"),
        (psc.PSC_ACR_NOT_CHECKED, "acr"),
    ],
)
def test_fault_switches_a_check_off(session, start_psc, fault, misbehave):
    sim = start_psc(misbehave={misbehave})
    with faults.enabled(fault):
        result = psc_round_trip(client_for(sim), session)
    assert result.ok, result.reason  # PSC.03: a session despite the bad token or state


def test_fault_acr_values_not_sent(session, psc_sim):
    with faults.enabled(psc.PSC_ACR_VALUES_NOT_SENT):
        result = psc_round_trip(client_for(psc_sim), session)
    assert result.reason == "provider_error"
    assert psc_sim.evidence.events[-1].data["acr_values"] is None  # PSC.02 reads the request


def test_fault_userinfo_not_called(session, psc_sim):
    with faults.enabled(psc.PSC_USERINFO_NOT_CALLED):
        result = psc_round_trip(client_for(psc_sim), session)
    assert result.ok
    assert [e.type for e in psc_sim.evidence.events] == ["psc.authorize", "psc.token"]  # PSC.04 fails
    assert journal(session, "user.login")[-1]["userinfo_called"] is False


def test_trust_space_token_exchange(session, psc_sim):
    client = client_for(psc_sim)
    login = psc_round_trip(client, session)
    token = client.trust_space_token(login.opened.row.psc_access_token)
    assert psc_sim.verify(token)["token_use"] == "psc_trust_space"
