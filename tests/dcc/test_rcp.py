"""Regional RCP directory and RCP management: referential loading, sessions, registration, final list with the
doctors told, quorum, the FRCP context (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dcc import events, faults
from dcc.db.models_resources import PsContact, RcpNotification
from dcc.services import rcp
from dcc.services.documents import create_frcp
from dcc.services.patients import Traits, create_patient

pytestmark = pytest.mark.persistence

REFERENTIAL = (
    "identifiant_rcp;libelle;identifiant_rrc;identifiant_gestionnaire;organisateur;finess_organisateur;centre_3c;"
    "specialite;quorum_specialites\n"
    "RCP-SEIN-01;RCP sein Saint-Louis;5201;520114;Hôpital Simulé Saint-Louis;750000001;3C Saint-Louis;sein;3\n"
    'RCP-DIG-02;"RCP digestif; CHU";5201;520115;CHU Simulé;690000002;3C CHU;digestif;\n'
    ";sans identifiant;;;Org;;3C;poumon;3\n"
    "RCP-X;trop de champs;;;Org;;3C;poumon;3;en trop\n"
    "RCP-Y;mauvais finess;;;Org;12;3C;poumon;3\n"
)
PARTICIPANTS = [
    {"id": "810000000001", "name": "Claire MARTIN", "specialty": "oncologie", "role": "responsable"},
    {"id": "810000000002", "name": "Jean DUPONT", "specialty": "chirurgie", "role": "suppleant"},
    {"id": "810000000003", "name": "Anne LEFÈVRE", "specialty": "radiothérapie", "role": "membre"},
    {"id": "810000000005", "name": "Paul ROUX", "specialty": "oncologie", "role": "membre"},
]


def journal(session, type_: str) -> list[dict]:
    return [e["data"] for e in events.export(session) if e["type"] == type_]


def load(session) -> rcp.ReferentialReport:
    return rcp.load_referential(
        session, REFERENTIAL.encode().splitlines(keepends=True), "referentiel.csv", "3c"
    )


@pytest.fixture
def planned(session):
    load(session)
    sein = rcp.get_rcp(session, "RCP-SEIN-01")
    return rcp.plan_session(
        session,
        sein,
        "RCP sein du mardi",
        datetime(2026, 12, 1, 17, 0, tzinfo=timezone(timedelta(hours=1))),
        "Salle 3",
        PARTICIPANTS,
        "3c",
        visio=True,
        visio_url="https://visio.example/rcp-sein",
    )


@pytest.fixture
def patient(session):
    return create_patient(session, Traits("Martin", ("Jeanne",), "F", "1979-03-12"), author="u1")


def test_referential_loads_valid_lines_and_reports_bad_ones(session):
    report = load(session)
    assert (report.created, report.updated) == (2, 0)
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (4, "empty identifiant_rcp"),
        (5, "10 fields, the header has 9"),
        (6, "finess_organisateur '12' is not 9 characters"),
    ]
    dig = rcp.get_rcp(session, "RCP-DIG-02")
    assert (dig.name, dig.quorum_specialties, dig.manager_id) == ("RCP digestif; CHU", 3, "520115")
    again = rcp.load_referential(
        session, REFERENTIAL.replace("RCP sein Saint-Louis", "RCP sein").encode().splitlines(), "r2.csv", "3c"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert journal(session, "rcp.referential_loaded")[-1]["rejected"] == 3
    with pytest.raises(rcp.RcpError, match="missing column"):
        rcp.load_referential(session, [b"code;nom\n"], "bad.csv", "3c")


def test_session_is_planned_with_responsible_and_deputy(session, planned):
    event = journal(session, "rcp.session_planned")[-1]
    assert {
        k: event[k] for k in ("title", "place", "responsible", "deputy", "expected_participants", "rcp_id")
    } == {
        "title": "RCP sein du mardi",
        "place": "Salle 3",
        "responsible": "810000000001",
        "deputy": "810000000002",
        "expected_participants": 4,
        "rcp_id": "1.2.250.1.161.1.20.3.1^RCP-SEIN-01",
    }
    assert event["date"] == "2026-12-01T16:00:00+00:00"
    sein = rcp.get_rcp(session, "RCP-SEIN-01")
    assert [s.id for s in rcp.calendar(session, sein, start=datetime(2026, 12, 1, tzinfo=UTC))] == [
        planned.id
    ]
    assert rcp.calendar(session, sein, end=datetime(2026, 12, 1, tzinfo=UTC)) == []
    for people, reason in [
        ([], "no_participant"),
        ([p for p in PARTICIPANTS if p["role"] != "suppleant"], "deputy_required"),
        ([p for p in PARTICIPANTS if p["role"] != "responsable"], "responsible_required"),
        ([*PARTICIPANTS, PARTICIPANTS[0]], "invalid_participant"),
    ]:
        with pytest.raises(rcp.RcpError) as refused:
            rcp.plan_session(session, sein, "T", datetime(2026, 12, 8, tzinfo=UTC), "Salle", people, "3c")
        assert refused.value.reason == reason
    with pytest.raises(rcp.RcpError, match="time zone"):
        rcp.plan_session(session, sein, "T", datetime(2026, 12, 8), "Salle", PARTICIPANTS, "3c")


def test_fault_rcp_session_without_deputy(session, planned):
    sein = rcp.get_rcp(session, "RCP-SEIN-01")
    no_deputy = [p for p in PARTICIPANTS if p["role"] != "suppleant"]
    with faults.enabled("rcp_session_without_deputy"):
        rcp.plan_session(session, sein, "T", datetime(2026, 12, 8, tzinfo=UTC), "Salle", no_deputy, "3c")
    assert "deputy" not in journal(session, "rcp.session_planned")[-1]


def test_registration_final_list_and_notification(session, planned, patient):
    session.add(
        PsContact(
            id_type="8",
            rpps="10000000009",
            idnat="810000000009",
            family="DOC",
            family_folded="DOC",
            activities=[],
            active=True,
            source="extraction",
            mss_address="doc@medecin.mssante.fr",
            updated_at=datetime.now(UTC),
        )
    )
    other = create_patient(session, Traits("Durand", ("Paul",), "M", "1950-01-02"), author="u1")
    frcp = create_frcp(session, patient, "810000000009")
    first = rcp.register(session, planned, patient, "810000000009", document=frcp)
    second = rcp.register(session, planned, other, "810000000008", registered_by="3c")
    assert first.doctor_mss == "doc@medecin.mssante.fr" and second.registered_by == "3c"
    registration = journal(session, "rcp.registration")[-2]
    assert (registration["patient_id"], registration["rcp_id"], registration["session_id"]) == (
        str(patient.id),
        "1.2.250.1.161.1.20.3.1^RCP-SEIN-01",
        str(planned.id),
    )
    with pytest.raises(rcp.RcpError) as refused:
        rcp.register(session, planned, patient, "810000000009")
    assert refused.value.reason == "already_registered"
    sent = rcp.close_final_list(session, planned, "3c", not_retained=[second.id])
    assert [(n.recipient, n.recipient_mss) for n in sent] == [
        ("810000000009", "doc@medecin.mssante.fr"),
        ("810000000008", None),
    ]
    assert "non retenu" in sent[1].text and "est retenu" in sent[0].text
    closed = journal(session, "rcp.final_list_closed")[-1]
    assert (closed["session_id"], closed["retained"], closed["not_retained"]) == (str(planned.id), 1, 1)
    told = journal(session, "notification.sent")[-2:]
    assert [(n["reason"], n["session_id"], n["retained"]) for n in told] == [
        ("rcp_final_list", str(planned.id), True),
        ("rcp_final_list", str(planned.id), False),
    ]
    with pytest.raises(rcp.RcpError) as late:
        rcp.register(
            session,
            planned,
            create_patient(session, Traits("Roux", ("Léa",), "F", "1990-05-06"), author="u1"),
            "d",
        )
    assert late.value.reason == "final_list_closed"


def test_fault_rcp_registration_not_notified(session, planned, patient):
    rcp.register(session, planned, patient, "810000000009")
    before = len(journal(session, "notification.sent"))
    with faults.enabled("rcp_registration_not_notified"):
        assert rcp.close_final_list(session, planned, "3c") == []
    assert len(journal(session, "notification.sent")) == before
    assert session.query(RcpNotification).filter_by(session_id=planned.id).count() == 0


def test_quorum_recorded_and_carried_to_the_frcp_context(session, planned, patient):
    frcp = create_frcp(session, patient, "810000000009")
    rcp.register(session, planned, patient, "810000000009", document=frcp)
    assert (
        rcp.record_quorum(session, planned, ["810000000001", "810000000005"], "810000000001")
        == rcp.QUORUM_NOT_REACHED
    )
    assert (
        rcp.record_quorum(session, planned, ["810000000001", "810000000002", "810000000003"], "810000000001")
        == rcp.QUORUM_REACHED
    )
    event = journal(session, "rcp.quorum_recorded")[-1]
    assert (event["quorum"], event["session_id"], event["present"]) == ("ORG-126", str(planned.id), 3)
    context = rcp.frcp_context(session, patient.id, frcp)
    assert context["rcp_id"] == "1.2.250.1.161.1.20.3.1^RCP-SEIN-01"
    assert context["rrc_id"] == "1.2.250.1.161.1.20.1.1^5201"
    assert context["manager_id"] == "1.2.250.1.161.1.20.2.1^520114"
    assert (context["quorum"], context["quorum_label"], context["session_id"]) == (
        "ORG-126",
        "Quorum atteint",
        str(planned.id),
    )
    assert [m["id"] for m in context["quorum_members"]] == ["810000000001", "810000000002", "810000000003"]
    assert context["responsible"]["id"] == "810000000001"
    with pytest.raises(rcp.RcpError) as refused:
        rcp.record_quorum(session, planned, ["899999999999"], "810000000001")
    assert refused.value.reason == "unknown_participant"
    assert (
        rcp.frcp_context(
            session, create_patient(session, Traits("X", ("Y",), "M", "1960-01-01"), author="u").id
        )
        is None
    )


def test_fault_quorum_not_recorded(session, planned, patient):
    rcp.register(session, planned, patient, "810000000009")
    with faults.enabled("quorum_not_recorded"):
        quorum = rcp.record_quorum(
            session, planned, ["810000000001", "810000000002", "810000000003"], "810000000001"
        )
    assert journal(session, "rcp.quorum_recorded")[-1]["quorum"] == quorum == "ORG-126"
    assert rcp.frcp_context(session, patient.id)["quorum"] is None


def test_fault_frcp_without_rcp_ids(session, planned, patient):
    rcp.register(session, planned, patient, "810000000009")
    assert rcp.frcp_context(session, patient.id)["rcp_id"].endswith("^RCP-SEIN-01")
    with faults.enabled("frcp_without_rcp_ids"):
        assert not rcp.frcp_context(session, patient.id)["rcp_id"].endswith("^RCP-SEIN-01")
