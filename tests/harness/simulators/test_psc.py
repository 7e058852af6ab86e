"""Pro Santé Connect simulator, driven by an OpenID Connect client written from the specification (httpx + PyJWT
over a real loopback socket)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest

from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import Fault, FaultMode
from harness.simulators.psc import PscSimulator

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def sim():
    with PscSimulator(evidence=EvidenceStore(), token_ttl_s=60) as running:
        yield running


def discover(sim):
    config = httpx.get(sim.issuer + "/.well-known/openid-configuration").json()
    assert httpx.get(sim.issuer + "/.well-known/wallet-openid-configuration").json() == config
    return config


def authorize(sim, config, **over):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": "dcc-recette",
        "redirect_uri": REDIRECT,
        "scope": "openid scope_all",
        "state": "st-1",
        "nonce": "n-1",
        "acr_values": "eidas1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **over,
    }
    response = httpx.get(config["authorization_endpoint"], params=params, follow_redirects=False)
    return response, verifier


def redirect_params(response):
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def exchange(config, code, verifier, **over):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **over,
    }
    return httpx.post(config["token_endpoint"], data=form, auth=("dcc-recette", "secret"))


def login(sim):
    config = discover(sim)
    response, verifier = authorize(sim, config, login_hint="10001234567")
    params = redirect_params(response)
    tokens = exchange(config, params["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    return config, params, tokens.json()


def test_full_flow_signed_id_token_and_userinfo(sim):
    config, params, tokens = login(sim)
    assert params["state"] == "st-1"
    jwks = jwt.PyJWKClient(config["jwks_uri"])
    key = jwks.get_signing_key_from_jwt(tokens["id_token"]).key
    claims = jwt.decode(
        tokens["id_token"], key, algorithms=["RS256"], audience="dcc-recette", issuer=sim.issuer
    )
    assert (
        claims["nonce"] == "n-1"
        and claims["acr"] == "eidas1"
        and claims["preferred_username"] == "810001234567"
    )
    info = httpx.get(
        config["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert info["SubjectNameID"] == "810001234567"
    assert info["SubjectRefPro"]["exercices"][0]["activities"][0]["numeroFinessSite"] == "750000001"
    signed = httpx.get(
        config["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/jwt"},
    )
    assert signed.headers["content-type"].startswith("application/jwt")
    assert (
        jwt.decode(signed.text, key, algorithms=["RS256"], audience="dcc-recette")["family_name"] == "MEDECIN"
    )
    kinds = [(e.type, e.data.get("result")) for e in sim.evidence.events]
    assert kinds[:3] == [("psc.authorize", "success"), ("psc.token", "success"), ("psc.userinfo", "success")]
    token_event = sim.evidence.events[1]
    assert tokens["id_token"].encode() in sim.evidence.read(token_event.artifacts[0])
    authorize_event = sim.evidence.events[0].data
    assert authorize_event["acr_values"] == "eidas1" and authorize_event["code_challenge_method"] == "S256"


def test_token_exchange_for_the_trust_space(sim):
    config, _, tokens = login(sim)
    response = httpx.post(
        config["token_endpoint"],
        auth=("dcc-recette", "secret"),
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": tokens["access_token"],
            "audience": "dmp",
        },
    )
    assert response.status_code == 200
    exchanged = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert exchanged["token_use"] == "psc_trust_space" and exchanged["aud"] == "dmp"


def test_refusals(sim):
    config = discover(sim)
    wrong_redirect, _ = authorize(sim, config, redirect_uri="https://evil.example/cb")
    assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_request"
    no_pkce, _ = authorize(sim, config, code_challenge_method="plain")
    assert redirect_params(no_pkce)["error"] == "invalid_request"
    bad_acr, _ = authorize(sim, config, acr_values="eidas2")
    assert redirect_params(bad_acr)["error"] == "invalid_request"
    response, verifier = authorize(sim, config)
    code = redirect_params(response)["code"]
    assert exchange(config, code, "wrong-verifier").json()["error"] == "invalid_grant"
    response, verifier = authorize(sim, config)
    code = redirect_params(response)["code"]
    assert exchange(config, code, verifier).status_code == 200
    replay = exchange(config, code, verifier)
    assert replay.status_code == 400 and "already used" in replay.json()["error_description"]
    bad_client = httpx.post(
        config["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "x"},
        auth=("dcc-recette", "nope"),
    )
    assert bad_client.status_code == 401
    forged = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, "k" * 32, algorithm="HS256")
    assert (
        httpx.get(config["userinfo_endpoint"], headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )


def test_expired_code_and_token():
    with PscSimulator(token_ttl_s=1, code_ttl_s=1) as sim:
        config, _, tokens = login(sim)
        time.sleep(2.1)
        expired = httpx.get(
            config["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert expired.status_code == 401 and "expired" in expired.json()["error_description"].lower()
        response, verifier = authorize(sim, config)
        code = redirect_params(response)["code"]
        time.sleep(1.2)
        assert "expired" in exchange(config, code, verifier).json()["error_description"]


@pytest.mark.parametrize("misbehave", ["state", "nonce", "signature", "acr"])
def test_misbehaviours_are_detectable_by_a_correct_client(misbehave):
    with PscSimulator(misbehave={misbehave}) as sim:
        config = discover(sim)
        response, verifier = authorize(sim, config)
        params = redirect_params(response)
        tokens = exchange(config, params["code"], verifier).json()
        key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(tokens["id_token"]).key
        if misbehave == "signature":
            with pytest.raises(jwt.InvalidSignatureError):
                jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience="dcc-recette")
            return
        claims = jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience="dcc-recette")
        observed = {
            "state": params["state"] != "st-1",
            "nonce": claims["nonce"] != "n-1",
            "acr": claims["acr"] != "eidas1",
        }
        assert observed[misbehave] and sum(observed.values()) == 1


def test_each_fault_mode(sim):
    config = discover(sim)
    token_url = config["token_endpoint"]
    expected = {FaultMode.REFUSE: 403, FaultMode.ERROR_5XX: 503}
    for mode, status in expected.items():
        sim.faults.inject(Fault(mode, operation="token"))
        assert httpx.post(token_url, data={}, auth=("dcc-recette", "secret")).status_code == status
    sim.faults.inject(Fault(FaultMode.SLOW, operation="token", delay_s=0.3))
    start = time.monotonic()
    assert httpx.post(token_url, data={}, auth=("dcc-recette", "secret")).status_code == 400
    assert time.monotonic() - start >= 0.3
    sim.faults.inject(Fault(FaultMode.TIMEOUT, operation="token", delay_s=1.5))
    with pytest.raises(httpx.TimeoutException):
        httpx.post(token_url, data={}, auth=("dcc-recette", "secret"), timeout=0.4)
    sim.faults.inject(Fault(FaultMode.MALFORMED, operation="token"))
    with pytest.raises(ValueError):
        httpx.post(token_url, data={}, auth=("dcc-recette", "secret")).json()
    sim.faults.inject(Fault(FaultMode.DROP, operation="token"))
    with pytest.raises(httpx.HTTPError):
        httpx.post(token_url, data={}, auth=("dcc-recette", "secret"))
    time.sleep(1.5)
    _, _, tokens = login(sim)  # still serving
    assert tokens["token_type"] == "Bearer"
