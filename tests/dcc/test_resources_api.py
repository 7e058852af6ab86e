"""The resources over HTTP (FastAPI TestClient on a temporary SQLite database): therapeutic bank and favourites,
extraction import (file and zip) and its report, directory search and RPPS lookup, RCP directory, sessions,
registration, final list, quorum, FRCP context; refusals are clear 4xx answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dcc.api.app import create_app
from dcc.services.annuaire_client import FhirPractitioner
from dcc.services.documents import create_frcp
from dcc.services.patients import Traits, create_patient
from harness.simulators.annuaire.data import DEFAULT, from_mapping
from harness.simulators.annuaire.extraction import extraction_zip
from tests.dcc.resources_helpers import person_file, person_row, rpps

PARTICIPANTS = [
    {"id": "810000000001", "name": "Claire MARTIN", "specialty": "oncologie", "role": "responsable"},
    {"id": "810000000002", "name": "Jean DUPONT", "specialty": "chirurgie", "role": "suppleant"},
    {"id": "810000000003", "name": "Anne LEFÈVRE", "specialty": "radiothérapie"},
]


class FakeAnnuaire:
    def practitioners(self, *, rpps=None, name=None, mailbox=None):
        return [FhirPractitioner("8" + rpps, rpps, "FHIR", "Léa", "DR", "10", (("lea@x.mssante.fr", "PER"),))]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(f"sqlite:///{tmp_path_factory.mktemp('api') / 'dcc.sqlite3'}")
    app.state.annuaire_client = FakeAnnuaire()
    return app


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def patient_and_frcp(app):
    with app.state.session_factory.begin() as db:
        patient = create_patient(db, Traits("Martin", ("Jeanne",), "F", "1979-03-12"), author="u1")
        frcp = create_frcp(db, patient, "u1")
        return patient.id, frcp.id


def test_bank_entries_favourites_and_field(client, patient_and_frcp):
    made = client.post(
        "/bdt/entries", json={"kind": "protocole", "label": "FOLFOX 6", "code": "F6", "author": "a"}
    )
    other = client.post("/bdt/entries", json={"kind": "protocole", "label": "AC 60", "author": "a"})
    assert made.status_code == other.status_code == 201
    entry_id = made.json()["id"]
    assert (
        client.post(
            "/bdt/entries", json={"kind": "protocole", "label": "FOLFOX 6", "author": "a"}
        ).status_code
        == 409
    )
    assert client.post("/bdt/entries", json={"kind": "autre", "label": "x", "author": "a"}).status_code == 422
    assert client.put(f"/bdt/favorites/u1/{entry_id}").status_code == 204
    assert client.put("/bdt/favorites/u1/9999").json()["detail"]["reason"] == "unknown_entry"
    mine = client.get("/bdt/entries", params={"user": "u1"}).json()
    theirs = client.get("/bdt/entries", params={"user": "u2"}).json()
    assert [(e["label"], e["favorite"]) for e in mine] == [("FOLFOX 6", True), ("AC 60", False)]
    assert [(e["label"], e["favorite"]) for e in theirs] == [("AC 60", False), ("FOLFOX 6", False)]
    assert (
        client.patch(f"/bdt/entries/{entry_id}", json={"author": "a", "details": "12 cures"}).json()[
            "details"
        ]
        == "12 cures"
    )
    _, frcp_id = patient_and_frcp
    entered = client.post(
        f"/bdt/documents/{frcp_id}/fields/proposition_therapeutique",
        json={"entry_id": entry_id, "author": "u1"},
    )
    assert entered.status_code == 201 and entered.json()["value"] == "FOLFOX 6 (F6)"
    assert (
        client.post("/bdt/documents/9999/fields/x", json={"entry_id": entry_id, "author": "u1"}).status_code
        == 404
    )
    assert client.delete(f"/bdt/favorites/u2/{entry_id}").status_code == 404


def test_extraction_import_report_and_search(client):
    bad = person_file(person_row(rpps(1), "ALPHA"), b"not|a|line|\n", person_row(rpps(2), "BETA"))
    answer = client.post(
        "/directory/imports",
        params={
            "file": "PS_LibreAcces_Personne_activite_202611240000.txt",
            "author": "admin",
            "expected_rejected": 1,
        },
        content=b"".join(bad),
    )
    assert answer.status_code == 201
    [report] = answer.json()
    assert (report["imported"], report["rejected"], report["rejects"]) == (
        2,
        1,
        [{"line": 3, "reason": "3 fields, the header has 25"}],
    )
    stored = client.get(f"/directory/imports/{report['import_id']}").json()
    assert (stored["status"], stored["rejects"][0]["line"]) == ("finished", 3)
    assert client.get("/directory/imports/nope").status_code == 404
    assert [
        c["family"] for c in client.get("/directory/contacts", params={"user": "u", "name": "alp"}).json()
    ] == ["ALPHA"]
    assert client.get("/directory/contacts", params={"user": "u"}).json()["detail"]["reason"] == "no_criteria"
    refused = client.post("/directory/imports", params={"file": "x.txt", "author": "a"}, content=b"a|b|\n")
    assert refused.status_code == 422 and refused.json()["detail"]["reason"] == "unknown_file"


def test_zip_of_both_files_as_the_public_site_serves_it(client):
    archive = extraction_zip(from_mapping(DEFAULT), datetime(2026, 11, 24, tzinfo=UTC))
    answer = client.post(
        "/directory/imports", params={"file": "PS_LibreAcces.zip", "author": "admin"}, content=archive
    )
    assert [(r["kind"], r["status"]) for r in answer.json()] == [
        ("personne_activite", "finished"),
        ("mssante", "finished"),
    ]
    found = client.get(
        "/directory/contacts", params={"user": "u", "mss": "jean.dupont@medecin.mssante.fr"}
    ).json()
    assert [c["rpps"] for c in found] == ["10000000002"]


def test_rpps_lookup_through_the_client(client):
    answer = client.get("/directory/contacts/rpps/10000000077", params={"user": "u"}).json()
    assert answer["source"] == "fhir" and answer["contacts"][0]["mss_address"] == "lea@x.mssante.fr"
    assert client.get("/directory/contacts/rpps/12x", params={"user": "u"}).status_code == 422


def test_rcp_directory_sessions_registration_final_list_quorum(client, patient_and_frcp):
    referential = (
        "identifiant_rcp;libelle;identifiant_rrc;identifiant_gestionnaire;organisateur;finess_organisateur;"
        "centre_3c;specialite;quorum_specialites\n"
        "RCP-SEIN-01;RCP sein;5201;520114;Hôpital;750000001;3C Saint-Louis;sein;3\n"
        "bad line\n"
    )
    loaded = client.post(
        "/rcp/referential", params={"file": "ref.csv", "author": "3c"}, content=referential.encode()
    )
    assert (loaded.json()["created"], loaded.json()["rejects"][0]["line"]) == (1, 3)
    assert (
        client.post(
            "/rcp/referential", params={"file": "x.csv", "author": "3c"}, content=b"a;b\n"
        ).status_code
        == 422
    )
    manual = client.post(
        "/rcp",
        json={
            "identifiant_rcp": "RCP-ONCOGER",
            "libelle": "Oncogériatrie",
            "organisateur": "CHU",
            "centre_3c": "3C CHU",
            "specialite": "oncogériatrie",
            "author": "3c",
        },
    )
    assert manual.status_code == 201 and manual.json()["rcp_id"] == "1.2.250.1.161.1.20.3.1^RCP-ONCOGER"
    assert [r["code"] for r in client.get("/rcp").json()] == ["RCP-ONCOGER", "RCP-SEIN-01"]
    assert client.get("/rcp/NOPE").status_code == 404
    session = {
        "title": "RCP sein",
        "date": "2026-12-01T17:00:00+01:00",
        "place": "Salle 3",
        "visio": True,
        "participants": PARTICIPANTS,
        "author": "3c",
    }
    planned = client.post("/rcp/RCP-SEIN-01/sessions", json=session)
    assert planned.status_code == 201
    session_id = planned.json()["session_id"]
    naive = client.post("/rcp/RCP-SEIN-01/sessions", json={**session, "date": "2026-12-01T17:00:00"})
    no_deputy = client.post("/rcp/RCP-SEIN-01/sessions", json={**session, "participants": PARTICIPANTS[:1]})
    assert naive.status_code == 422 and no_deputy.json()["detail"]["reason"] == "deputy_required"
    assert [s["session_id"] for s in client.get("/rcp/sessions", params={"code": "RCP-SEIN-01"}).json()] == [
        session_id
    ]
    patient_id, frcp_id = patient_and_frcp
    registered = client.post(
        f"/rcp/sessions/{session_id}/registrations",
        json={"patient_id": patient_id, "doctor": "810000000009", "document_id": frcp_id},
    )
    assert registered.status_code == 201
    again = client.post(
        f"/rcp/sessions/{session_id}/registrations", json={"patient_id": patient_id, "doctor": "d"}
    )
    assert again.status_code == 409 and again.json()["detail"]["reason"] == "already_registered"
    assert (
        client.post(
            f"/rcp/sessions/{session_id}/registrations", json={"patient_id": 999, "doctor": "d"}
        ).status_code
        == 404
    )
    closed = client.post(f"/rcp/sessions/{session_id}/final-list", json={"by": "3c"}).json()
    assert [n["recipient"] for n in closed["notifications"]] == ["810000000009"]
    assert client.post(f"/rcp/sessions/{session_id}/final-list", json={"by": "3c"}).status_code == 409
    quorum = client.post(
        f"/rcp/sessions/{session_id}/quorum",
        json={"present": ["810000000001", "810000000002", "810000000003"], "author": "810000000001"},
    )
    assert quorum.json() == {"session_id": session_id, "quorum": "ORG-126", "label": "Quorum atteint"}
    context = client.get(f"/rcp/context/{patient_id}", params={"document_id": frcp_id}).json()
    assert (context["rcp_id"], context["quorum"]) == ("1.2.250.1.161.1.20.3.1^RCP-SEIN-01", "ORG-126")
    assert client.get("/rcp/context/999").status_code == 404
    detail = client.get(f"/rcp/sessions/{session_id}").json()
    assert detail["final_list_closed"] and detail["registrations"][0]["retained"] is True
