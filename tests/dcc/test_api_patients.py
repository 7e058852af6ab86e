"""The identity endpoints through FastAPI's TestClient on a temporary database: input errors name the field, a
wrong INS key is 422 and writes nothing (but the refusal's trace), RNIV refusals are 409 with a reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dcc import events
from dcc.api.app import create_app
from dcc.db.models import AuditEntry, IdentityStatusChange, Patient
from dcc.db.models_identity import IdentityInput
from dcc.services import cgu
from tests.dcc.insi_fakes import MARTIN, OID, FakeInsi

pytestmark = pytest.mark.persistence
ACTOR = {"user_id": "810001234567", "user_kind": "liberal"}
NO_CGU = {"user_id": "810009999999", "user_kind": "liberal"}
MARTIN_TRAITS = {
    "nom_naissance": "Martin",
    "prenoms": ["Jeanne", "Marie"],
    "sexe": "F",
    "date_naissance": "1979-03-12",
    "lieu_naissance": "75056",
}


@pytest.fixture(scope="module")
def app(database_url):
    app = create_app(database_url)
    app.state.insi_client = FakeInsi()
    with app.state.session_factory() as db:
        cgu.accept(db, ACTOR["user_id"], "1", "liberal")
        db.commit()
    return app


@pytest.fixture
def client(app):
    return TestClient(app)


def counts(app):
    with app.state.session_factory() as db:
        return tuple(
            db.scalar(select(func.count()).select_from(t))
            for t in (Patient, IdentityInput, IdentityStatusChange, AuditEntry)
        )


def last_events(app, type):
    with app.state.session_factory() as db:
        return [e["data"] for e in events.export(db) if e["type"] == type]


def traits(**changes):
    return {**MARTIN_TRAITS, **changes}


def test_typed_identity_is_created_provisoire_then_reused_and_qualified(client):
    created = client.post("/patients", json={"actor": ACTOR, "traits": traits(date_naissance="1979-03-12")})
    assert created.status_code == 200, created.text
    body = created.json()
    assert (body["case"], body["patient"]["identity_status"]) == ("7", "recuperee")  # INSi retrieval followed
    assert body["insi"]["code"] == "00" and body["patient"]["ins"] == {
        "matricule": MARTIN.matricule,
        "oid": OID,
    }
    again = client.post("/patients", json={"actor": ACTOR, "traits": traits()}).json()
    assert (again["case"], again["patient"]["id"]) == ("6b", body["patient"]["id"])  # no duplicate
    patient_id = body["patient"]["id"]
    qualified = client.post(
        f"/patients/{patient_id}/status",
        json={"actor": ACTOR, "to": "qualifiee", "reason": "CNI vue", "justificatif": "carte_identite"},
    )
    assert qualified.status_code == 200, qualified.text
    read = client.get(f"/patients/{patient_id}").json()
    assert read["identity_status"] == "qualifiee"
    assert [(h["previous_status"], h["new_status"]) for h in read["history"]] == [
        (None, "provisoire"),
        ("provisoire", "recuperee"),
        ("recuperee", "qualifiee"),
    ]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"traits": traits(sexe="X")}, ["body", "traits", "sexe"]),
        ({"traits": traits(date_naissance="12/03/1979")}, ["body", "traits", "date_naissance"]),
        ({"traits": traits(prenoms=[])}, ["body", "traits", "prenoms"]),
        ({"traits": traits(lieu_naissance="7505")}, ["body", "traits", "lieu_naissance"]),
        ({"traits": traits(), "colour": "blue"}, ["body", "colour"]),
        ({"traits": traits(), "mode": "flux"}, ["body", "mode"]),
    ],
)
def test_invalid_input_is_422_naming_the_field(app, client, payload, field):
    before = counts(app)
    response = client.post("/patients", json={"actor": ACTOR, **payload})
    assert response.status_code == 422
    assert field in [error["loc"] for error in response.json()["detail"]]
    assert counts(app) == before


def test_a_wrong_ins_key_is_422_and_writes_nothing_but_its_trace(app, client):
    before = counts(app)
    response = client.post(
        "/patients",
        json={
            "actor": ACTOR,
            "traits": traits(nom_naissance="Autre"),
            "ins_matricule": "279035121518988",
            "ins_oid": OID,
        },
    )
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "ins_matricule"] and "key 88 is wrong (expected 89)" in detail["msg"]
    assert counts(app) == before
    patient_id = client.post(
        "/patients", json={"actor": ACTOR, "traits": traits(nom_naissance="Bis", date_naissance="1981-01-01")}
    ).json()
    patient_id = patient_id["patient"]["id"]
    before = counts(app)
    typed = client.put(
        f"/patients/{patient_id}/ins", json={"actor": ACTOR, "matricule": "279035121518988", "oid": OID}
    )
    assert typed.status_code == 422 and typed.json()["detail"][0]["loc"] == ["body", "matricule"]
    assert counts(app) == before
    refused = last_events(app, "identity.ins_entered")[-1]
    assert (refused["patient_id"], refused["key_valid"], refused["accepted"]) == (
        str(patient_id),
        False,
        False,
    )
    ok = client.put(
        f"/patients/{patient_id}/ins", json={"actor": ACTOR, "matricule": "279035121518989", "oid": OID}
    )
    assert ok.status_code == 200 and ok.json()["ins"] is None  # typed: waits for INSi
    assert last_events(app, "identity.ins_entered")[-1]["accepted"] is True


def test_rnIV_refusals_are_409_with_a_reason(app, client):
    patient_id = client.post(
        "/patients",
        json={"actor": ACTOR, "traits": traits(nom_naissance="Neuf", date_naissance="1990-01-01")},
    ).json()["patient"]["id"]
    before = counts(app)
    jump = client.post(
        f"/patients/{patient_id}/status", json={"actor": ACTOR, "to": "qualifiee", "reason": "x"}
    )
    assert jump.status_code == 409 and jump.json()["detail"]["reason"] == "transition_not_allowed"
    tiers = client.post(
        f"/patients/{patient_id}/status",
        json={"actor": ACTOR, "to": "validee", "reason": "x", "justificatif": "tiers_de_confiance"},
    )
    assert tiers.status_code == 422 and tiers.json()["detail"][0]["loc"] == ["body", "justificatif"]
    assert last_events(app, "identity.qualification_refused")[-1]["reason"] == "tiers_de_confiance_manual"
    no_clause = client.post(
        f"/patients/{patient_id}/status",
        json={"actor": NO_CGU, "to": "validee", "reason": "x", "justificatif": "passeport"},
    )
    assert no_clause.status_code == 409 and no_clause.json()["detail"]["reason"] == "no_trust_clause"
    requested = last_events(app, "identity.qualification_requested")[-1]
    assert (requested["patient_id"], requested["trust_clause"]) == (str(patient_id), False)
    assert counts(app) == before
    assert client.get("/patients/999999").status_code == 404
    client.post(
        f"/patients/{patient_id}/status",
        json={"actor": ACTOR, "to": "validee", "reason": "CNI", "justificatif": "carte_identite"},
    )
    by_hand = client.post(
        f"/patients/{patient_id}/status", json={"actor": ACTOR, "to": "qualifiee", "reason": "x"}
    )
    assert by_hand.status_code == 409 and by_hand.json()["detail"]["reason"] == "insi_required"


def test_flow_reception_rapprochement_and_decision(app, client):
    local = client.post(
        "/patients",
        json={
            "actor": ACTOR,
            "traits": traits(
                nom_naissance="Durand",
                prenoms=["Paul"],
                sexe="M",
                date_naissance="1960-01-01",
                lieu_naissance=None,
            ),
        },
    ).json()
    flow = {
        "actor": ACTOR,
        "traits": traits(
            nom_naissance="Durand",
            prenoms=["Paule"],
            sexe="M",
            date_naissance="1960-01-01",
            lieu_naissance=None,
        ),
        "received_status": "validee",
        "justificatif": "passeport",
        "source_identity_id": "SIH^42",
    }
    pending = client.post("/identities/received", json=flow)
    assert pending.status_code == 202 and pending.json()["candidates"] == [local["patient"]["id"]]
    decided = client.post(
        f"/identities/received/{pending.json()['input_id']}/decision",
        json={"actor": ACTOR, "choice": "create"},
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (
        body["case"] == "3e" and body["patient"]["history"][0]["new_status"] == "validee"
    )  # created validée
    assert (body["insi"]["code"], body["patient"]["identity_status"]) == (
        "01",
        "provisoire",
    )  # INSi KO, policy
    again = client.post(
        f"/identities/received/{pending.json()['input_id']}/decision",
        json={"actor": ACTOR, "choice": "create"},
    )
    assert again.status_code == 409 and again.json()["detail"]["reason"] == "reception_not_pending"
    missing_ins = client.post(
        "/identities/received", json={**flow, "received_status": "qualifiee", "source_identity_id": "SIH^43"}
    )
    assert (
        missing_ins.status_code == 422
        and missing_ins.json()["detail"][0]["type"] == "value_error.ins_missing"
    )


def test_qualification_via_insi(app, client):
    patient = client.post(
        "/patients",
        json={
            "actor": ACTOR,
            "traits": traits(
                nom_naissance="Dupont",
                prenoms=["Pierre"],
                sexe="M",
                date_naissance="2009-07-01",
                lieu_naissance=None,
            ),
        },
    ).json()["patient"]
    assert patient["identity_status"] == "provisoire"  # FakeInsi knows only MARTIN: 01, nothing to downgrade
    validated = client.post(
        f"/patients/{patient['id']}/status",
        json={"actor": ACTOR, "to": "validee", "reason": "passeport vu", "justificatif": "passeport"},
    )
    assert validated.status_code == 200
    answer = client.post(f"/patients/{patient['id']}/insi", json={"actor": ACTOR})
    assert answer.status_code == 200
    assert (answer.json()["insi"]["code"], answer.json()["insi"]["action"]) == ("01", "downgrade")
    assert answer.json()["patient"]["identity_status"] == "provisoire"
    bad = client.post(f"/patients/{patient['id']}/insi", json={"actor": ACTOR, "carte_vitale": "12"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "carte_vitale"]


def test_insi_not_configured_is_503(database_url, monkeypatch):
    monkeypatch.delenv("DCC_INSI_URL", raising=False)
    bare = TestClient(create_app(database_url))
    patient = bare.post(
        "/patients",
        json={"actor": ACTOR, "traits": traits(nom_naissance="Sans", date_naissance="1950-05-05")},
    )
    assert patient.status_code == 200 and patient.json()["insi"] is None  # care goes on without INSi
    response = bare.post(f"/patients/{patient.json()['patient']['id']}/insi", json={"actor": ACTOR})
    assert response.status_code == 503 and response.json()["detail"]["reason"] == "insi_not_configured"
