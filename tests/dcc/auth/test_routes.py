"""The HTTP side (TestClient on the app, the PSC simulator on a real socket): the three ways in, the CGU gate,
roles and care teams through the dependencies, refusals committed to the journal, DMP readiness (AUTH.04)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dcc.api.app import create_app
from dcc.auth import accounts, local
from dcc.db.models import DccEvent
from dcc.services import cgu
from harness.simulators.dpi.contextual import issue_token
from tests.dcc.auth.conftest import PASSWORD, REDIRECT, SECRET, local_account, patient, settings_for

pytestmark = pytest.mark.persistence


@pytest.fixture
def app(engine, database_url, psc_sim):
    application = create_app(url=database_url, engine=engine)
    application.state.auth_settings = settings_for(psc_sim)
    return application


def events(app, type_: str) -> list[dict]:
    with app.state.session_factory() as db:
        return [
            e.data for e in db.scalars(select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id))
        ]


def seed(app, fn):
    with app.state.session_factory() as db:
        value = fn(db)
        db.commit()
        return value


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def password_login(client, username: str, secret: str) -> httpx.Response:
    otp = pyotp.TOTP(secret).now()
    return client.post("/auth/login", json={"username": username, "password": PASSWORD, "otp": otp})


def test_methods_offer_exactly_the_three_ways_in(app):
    with TestClient(app) as client:
        offered = {m["method"] for m in client.get("/auth/methods").json()["methods"]}
    assert offered == {"psc", "password_otp", "contextual"}


def test_psc_login_over_http_then_cgu_then_dmp_ready(app, psc_sim):
    with TestClient(app) as client:
        start = client.get("/auth/psc/login", params={"login_hint": "10007654321"}, follow_redirects=False)
        assert start.status_code == 302 and start.headers["location"].startswith(psc_sim.base_url)
        provider = httpx.get(start.headers["location"], follow_redirects=False, timeout=10)
        back = provider.headers["location"]
        assert back.startswith(REDIRECT)
        params = {k: v[0] for k, v in parse_qs(urlparse(back).query).items()}
        answer = client.get("/auth/psc/callback", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (
            body["method"] == "psc"
            and body["user_id"] == "810007654321"
            and body["cgu_required"] == "first_access"
        )
        me = client.get("/auth/me").json()  # the cookie carries the session
        assert me["rpps"] == "10007654321" and me["acr"] == "eidas1" and me["cgu_pending"] is True
        assert client.get("/auth/dmp/ready").json()["detail"]["reason"] == "cgu_required"
        assert client.post("/auth/cgu/accept", json={"cgu_version": "0"}).status_code == 409
        assert client.post("/auth/cgu/accept", json={"cgu_version": "1"}).status_code == 200
        assert client.get("/auth/dmp/ready").json() == {
            "ready": True,
            "user_id": "810007654321",
            "method": "psc",
        }
        # the callback cannot be replayed: the state cookie and the pending state are gone
        replay = client.get("/auth/psc/callback", params=params)
        assert replay.status_code == 401 and replay.json()["reason"] == "bad_state"
        assert client.post("/auth/logout").status_code == 200
        assert (
            client.get("/auth/me", headers=bearer(body["token"])).json()["detail"]["reason"]
            == "session_revoked"
        )


def test_psc_callback_with_an_altered_state_is_refused(engine, database_url, start_psc):
    sim = start_psc(misbehave={"state"})
    application = create_app(url=database_url, engine=engine)
    application.state.auth_settings = settings_for(sim)
    with TestClient(application) as client:
        start = client.get("/auth/psc/login", follow_redirects=False)
        back = httpx.get(start.headers["location"], follow_redirects=False, timeout=10).headers["location"]
        params = {k: v[0] for k, v in parse_qs(urlparse(back).query).items()}
        answer = client.get("/auth/psc/callback", params=params)
    assert answer.status_code == 401 and answer.json() == {"result": "failure", "reason": "bad_state"}
    assert events(application, "user.login")[-1]["reason"] == "bad_state"  # the refusal was committed


def test_password_login_administration_roles_and_care_team(app):
    def bootstrap(db):
        admin, _ = local_account(db, "admin-http", role="administrateur")
        cgu.accept(db, "admin-http", "1", "etablissement")
        return admin.totp_secret, patient(db).id

    admin_secret, patient_id = seed(app, bootstrap)
    with TestClient(app) as client:
        assert client.post("/auth/login", json={"username": "admin-http", "password": PASSWORD}).json() == {
            "result": "failure",
            "reason": "otp_required",
        }
        admin = password_login(client, "admin-http", admin_secret).json()
        assert admin["method"] == "password_otp" and admin["cgu_required"] is None
        created = client.post(
            "/auth/users",
            json={"username": "dr-http", "display_name": "Dr Http", "role": "medecin", "password": PASSWORD},
            headers=bearer(admin["token"]),
        )
        assert created.status_code == 201, created.text
        secret = parse_qs(urlparse(created.json()["otpauth_uri"]).query)["secret"][0]
        weak = client.post(
            "/auth/users",
            json={"username": "dr-weak", "display_name": "W", "role": "medecin", "password": "short"},
            headers=bearer(admin["token"]),
        )
        assert weak.status_code == 422 and weak.json()["detail"]["reason"] == "invalid_account"
        doctor = password_login(client, "dr-http", secret).json()
        assert doctor["cgu_required"] == "first_access"
        assert (
            client.get(f"/auth/patients/{patient_id}/access", headers=bearer(doctor["token"])).status_code
            == 403
        )
        client.post("/auth/cgu/accept", json={"cgu_version": "1"}, headers=bearer(doctor["token"]))
        denied = client.get(f"/auth/patients/{patient_id}/access", headers=bearer(doctor["token"]))
        assert denied.status_code == 403 and denied.json()["detail"]["reason"] == "not_in_care_team"
        assert events(app, "patient.access_denied")[-1]["user_id"] == "dr-http"  # committed despite the 403
        # the doctor may not administer; the administrator puts them in the team
        intruder = {"username": "x-user", "display_name": "X", "role": "administrateur", "password": PASSWORD}
        refused = client.post("/auth/users", json=intruder, headers=bearer(doctor["token"]))
        assert refused.status_code == 403 and refused.json()["detail"]["reason"] == "role_not_allowed"
        added = client.post(
            f"/auth/patients/{patient_id}/care-team",
            json={"username": "dr-http", "team_role": "referent"},
            headers=bearer(admin["token"]),
        )
        assert added.status_code == 201, added.text
        granted = client.get(f"/auth/patients/{patient_id}/access", headers=bearer(doctor["token"]))
        assert granted.status_code == 200 and granted.json()["granted"] is True
        assert events(app, "patient.accessed")[-1] == {
            "patient_id": str(patient_id),
            "user_id": "dr-http",
            "role": "medecin",
            "action": "read",
            "method": "password_otp",
            "cgu_accepted": True,
        }
        # the administrator reads no patient data, and a password session cannot act on the DMP
        admin_read = client.get(f"/auth/patients/{patient_id}/access", headers=bearer(admin["token"]))
        assert admin_read.json()["detail"]["reason"] == "role_not_allowed"
        dmp = client.get("/auth/dmp/ready", headers=bearer(doctor["token"]))
        assert dmp.status_code == 401 and dmp.json()["detail"]["reason"] == "psc_login_required"


def test_lockout_over_http_and_unlock_by_an_administrator(app):
    def bootstrap(db):
        admin, _ = local_account(db, "admin-lock", role="administrateur")
        cgu.accept(db, "admin-lock", "1", "etablissement")
        victim, _ = local_account(db, "dr-lock")
        return admin.totp_secret, victim.totp_secret

    admin_secret, victim_secret = seed(app, bootstrap)
    with TestClient(app) as client:
        for _ in range(3):
            wrong = client.post(
                "/auth/login", json={"username": "dr-lock", "password": "wrong password", "otp": "1"}
            )
            assert wrong.status_code == 401
        assert events(app, "user.locked")[-1]["user_id"] == "dr-lock"
        assert password_login(client, "dr-lock", victim_secret).json()["reason"] == "locked"
        admin = password_login(client, "admin-lock", admin_secret).json()
        assert client.post("/auth/users/dr-lock/unlock", headers=bearer(admin["token"])).status_code == 200
    with app.state.session_factory() as db:
        account = accounts.by_username(db, "dr-lock")
        assert account.locked_at is None and account.failed_attempts == 0


def test_contextual_call_over_http_then_dmp_asks_for_psc(app):
    token, claims = issue_token(
        secret=SECRET,
        issuer="dpi-simule",
        audience="dcc",
        user={"idnat": "899900000042", "rpps": "99900000042", "family": "CTX", "given": "Camille"},
        patient={"ipp": "IPP-42"},
    )
    with TestClient(app) as client:
        opened = client.get("/contextual", params={"token": token})
        assert opened.status_code == 200 and opened.json()["method"] == "contextual"
        session_token = opened.json()["token"]
        again = client.get("/contextual", params={"token": token})
        assert again.status_code == 401 and again.json()["reason"] == "replayed"
        client.post("/auth/cgu/accept", json={"cgu_version": "1"}, headers=bearer(session_token))
        dmp = client.get("/auth/dmp/ready", headers=bearer(session_token))
        assert dmp.status_code == 401
        assert dmp.json()["detail"] == {
            "reason": "psc_login_required_after_contextual",
            "message": dmp.json()["detail"]["message"],
            "login": "/auth/psc/login",
        }
    logins = [e for e in events(app, "user.login") if e.get("jti") == claims["jti"]]
    assert [(e["result"], e["reason"]) for e in logins] == [("success", None), ("failure", "replayed")]
    assert events(app, "dmp.psc_login_required")[-1]["user_id"] == "899900000042"


def test_no_session_and_garbage_tokens_are_401(app):
    with TestClient(app) as client:
        assert client.get("/auth/me").json()["detail"]["reason"] == "not_authenticated"
        assert (
            client.get("/auth/me", headers=bearer("garbage")).json()["detail"]["reason"] == "unknown_session"
        )
    assert local.MIN_PASSWORD_LENGTH >= 12
