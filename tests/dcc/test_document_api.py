"""The document API end to end (FastAPI TestClient on the module's database): the lifecycle, prefill, refusals
as 409 with their reason and a refusal event, attachment limits as 413/415/422, a CR-GM received and reused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dcc import audit
from dcc.api.app import create_app
from dcc.db import make_session_factory
from dcc.db.models import Attachment, DccEvent
from dcc.services.documents import MAX_ATTACHMENT_BYTES
from dcc.services.patients import Traits, create_patient

pytestmark = pytest.mark.persistence
CRGM = Path("/work/shared/ci-sis/testcontenucda/ExemplesCDA/CANCER-CR-GM_2022.01_AnalyseRealisee.xml")


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(engine=engine, run_migrations=False)) as client:
        yield client


@pytest.fixture
def patient_id(engine):
    with make_session_factory(engine)() as session:
        patient = create_patient(session, Traits("Petit", ("Marie",), "F", "1965-09-30"), author="u1")
        session.commit()
        return patient.id


def journal(engine, type_):
    with make_session_factory(engine)() as session:
        return [
            e.data
            for e in session.scalars(select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id))
        ]


def status(client, document_id, to, author="u1"):
    return client.post(f"/documents/{document_id}/status", json={"author": author, "to": to})


def validated_frcp(client, patient_id, content=None):
    created = client.post(
        "/documents",
        json={"kind": "FRCP", "patient_id": patient_id, "author": "u1", "content": content or {}},
    )
    assert created.status_code == 201, created.text
    frcp = created.json()["document"]
    assert status(client, frcp["id"], "complete").status_code == 200
    assert status(client, frcp["id"], "valide", "u2").json()["status"] == "valide"
    return frcp


def test_lifecycle_with_prefill_and_refusals(client, engine, patient_id):
    frcp = validated_frcp(client, patient_id, {"proposition_therapeutique": "chimiothérapie"})
    back = status(client, frcp["id"], "en_cours")
    assert back.status_code == 409 and back.json()["reason"] == "transition_refused"
    refused = journal(engine, "document.transition_refused")[-1]
    assert (refused["document_id"], refused["from"], refused["to"], refused["reason"]) == (
        frcp["document_id"],
        "valide",
        "en_cours",
        "transition_refused",
    )
    assert client.get(f"/documents/{frcp['id']}").json()["status"] == "valide"  # the refusal left nothing

    created = client.post("/documents", json={"kind": "PPS", "frcp_id": frcp["id"], "author": "u1"})
    assert created.status_code == 201
    pps, proposal = created.json()["document"], created.json()["proposal"]
    assert pps["frcp_id"] == frcp["document_id"]
    assert [i["field"] for i in proposal["items"]] == ["proposition_therapeutique"]
    kept = client.post(f"/prefill-proposals/{proposal['id']}/apply", json={"author": "u3", "keep": "all"})
    assert kept.json() == {"kept": ["proposition_therapeutique"]}
    again = client.post(f"/prefill-proposals/{proposal['id']}/apply", json={"author": "u3", "keep": []})
    assert again.status_code == 409 and again.json()["reason"] == "already_applied"

    entered = client.post(
        f"/documents/{pps['id']}/fields", json={"author": "u4", "values": {"contact": "IDE"}}
    )
    body = entered.json()
    assert body["content"] == {"proposition_therapeutique": "chimiothérapie", "contact": "IDE"}
    assert [(e["field"], e["author"]) for e in body["entries"]] == [
        ("proposition_therapeutique", "u3"),
        ("contact", "u4"),
    ]
    assert status(client, pps["id"], "complete").status_code == 200
    assert status(client, pps["id"], "valide").status_code == 200
    locked = client.post(f"/documents/{pps['id']}/fields", json={"author": "u4", "values": {"contact": "x"}})
    assert locked.status_code == 409 and locked.json()["reason"] == "validated"
    modification = journal(engine, "document.modification_refused")[-1]
    assert (modification["document_id"], modification["reason"]) == (pps["document_id"], "validated")

    version = client.post(f"/documents/{pps['id']}/versions", json={"author": "u1"})
    assert version.status_code == 201
    v2 = version.json()["document"]
    assert (v2["set_id"], v2["version"], v2["status"], v2["frcp_id"]) == (
        pps["set_id"],
        2,
        "en_cours",
        frcp["document_id"],
    )
    listed = client.get(f"/patients/{patient_id}/documents").json()
    assert [(d["kind"], d["version"]) for d in listed] == [("FRCP", 1), ("PPS", 1), ("PPS", 2)]
    assert [d["kind"] for d in client.get(f"/patients/{patient_id}/documents?kind=FRCP").json()] == ["FRCP"]
    with make_session_factory(engine)() as session:
        assert audit.verify(session) == []


def test_pps_from_unvalidated_frcp_is_409_and_journaled(client, engine, patient_id):
    created = client.post("/documents", json={"kind": "FRCP", "patient_id": patient_id, "author": "u1"})
    frcp = created.json()["document"]
    refused = client.post("/documents", json={"kind": "PPS", "frcp_id": frcp["id"], "author": "u1"})
    assert refused.status_code == 409 and refused.json()["reason"] == "frcp_non_validee"
    event = journal(engine, "document.create_refused")[-1]
    assert (event["kind"], event["reason"], event["frcp_id"]) == (
        "PPS",
        "frcp_non_validee",
        frcp["document_id"],
    )
    pps_created = [e for e in journal(engine, "document.created") if e.get("frcp_id") == frcp["document_id"]]
    assert pps_created == []


def test_input_errors(client, patient_id):
    assert (
        client.post("/documents", json={"kind": "PPS", "patient_id": patient_id, "author": "u1"}).status_code
        == 422
    )
    assert client.post("/documents", json={"kind": "FRCP", "patient_id": patient_id}).status_code == 422
    assert (
        client.post("/documents", json={"kind": "FRCP", "patient_id": 10**9, "author": "u1"}).status_code
        == 404
    )
    assert client.get("/documents/999999999").status_code == 404
    assert client.get("/patients/999999999/documents").status_code == 404
    frcp = client.post("/documents", json={"kind": "FRCP", "patient_id": patient_id, "author": "u1"}).json()
    assert status(client, frcp["document"]["id"], "archivé").status_code == 422
    bad_field = {"author": "u1", "values": {"a b": "x"}}
    assert client.post(f"/documents/{frcp['document']['id']}/fields", json=bad_field).status_code == 422
    assert (
        client.post(
            f"/prefill-proposals/{frcp['proposal']['id']}/apply", json={"author": "u1", "keep": "some"}
        ).status_code
        == 422
    )


def test_attachment_limits(client, engine, patient_id):
    frcp = client.post("/documents", json={"kind": "FRCP", "patient_id": patient_id, "author": "u1"}).json()[
        "document"
    ]
    url = f"/documents/{frcp['id']}/attachments?title=effets&author=u1"
    ok = client.post(url, content=b"%PDF-1.4 effets secondaires", headers={"content-type": "application/pdf"})
    assert ok.status_code == 201
    exe = client.post(url, content=b"MZ...", headers={"content-type": "application/x-msdownload"})
    assert exe.status_code == 415 and exe.json()["reason"] == "type_refused"
    big = client.post(url, content=b"x" * (MAX_ATTACHMENT_BYTES + 1), headers={"content-type": "text/plain"})
    assert big.status_code == 413 and big.json()["reason"] == "too_large"
    empty = client.post(url, content=b"", headers={"content-type": "text/plain"})
    assert empty.status_code == 422
    assert client.post(f"/documents/{frcp['id']}/attachments?author=u1", content=b"x").status_code == 422
    rejected = [e for e in journal(engine, "attachment.rejected") if e["document_id"] == frcp["document_id"]]
    assert [e["reason"] for e in rejected] == ["type_refused", "too_large"]
    with make_session_factory(engine)() as session:
        titles = session.scalars(select(Attachment.title).where(Attachment.document_id == frcp["id"])).all()
    assert titles == ["effets"]


def test_crgm_received_then_offered(client, engine, patient_id):
    url = f"/patients/{patient_id}/crgm?author=u1&source=mss"
    wrong_type = client.post(url, content=CRGM.read_bytes(), headers={"content-type": "application/pdf"})
    assert wrong_type.status_code == 415
    broken = client.post(
        url,
        content=b"<ClinicalDocument xmlns='urn:hl7-org:v3'><code code='1'/></ClinicalDocument>",
        headers={"content-type": "text/xml"},
    )
    assert broken.status_code == 422 and broken.json()["xpath"] == "/hl7:ClinicalDocument/hl7:code/@code"
    assert journal(engine, "document.integration_refused")[-1]["reason"] == "not_crgm"
    received = client.post(url, content=CRGM.read_bytes(), headers={"content-type": "application/xml"})
    assert received.status_code == 201 and "EGFR" in received.json()["extracted"]["conclusion_moleculaire"]
    created = client.post(
        "/documents", json={"kind": "FRCP", "patient_id": patient_id, "author": "u1"}
    ).json()
    assert [(i["field"], i["from_kind"]) for i in created["proposal"]["items"]] == [
        ("conclusion_moleculaire", "CR-GM")
    ]


def test_syntheses_endpoint(client, engine, patient_id):
    frcp = validated_frcp(client, patient_id)
    pps = client.post("/documents", json={"kind": "PPS", "frcp_id": frcp["id"], "author": "u1"}).json()[
        "document"
    ]
    items = (
        '[{"categorie": "traitement", "libelle": "chirurgie", "date": "2024-01-10", "confirme": true},'
        ' {"categorie": "soin_support", "libelle": "APA", "date": "2099-01-01", "confirme": true}]'
    )
    client.post(f"/documents/{pps['id']}/fields", json={"author": "u1", "values": {"soins_prevus": items}})
    built = client.get(f"/documents/{pps['id']}/syntheses?as_of=2025-01-01").json()
    assert [i["libelle"] for i in built["treatments"]] == ["chirurgie"] and built["supportive_care"] == []
    assert journal(engine, "document.synthesis_built")[-1]["document_id"] == pps["document_id"]
    assert client.get(f"/documents/{frcp['id']}/syntheses").status_code == 409
