"""DMP feeding through the outbox against the DMP simulator (XDS.b over HTTP, MTOM): FRCP invisible while its PPS
is absent, made visible by replacement when the PPS arrives, new versions replacing the previous one, opposition,
manual share, recovery of an interrupted submission, consultation with and without consent."""

from __future__ import annotations

import time

import jwt
import pytest
from sqlalchemy import select, update

from dcc import faults
from dcc.db import make_session_factory
from dcc.db.models import DccEvent, Transmission
from dcc.db.models_transmissions import DmpCachedDocument
from dcc.services import documents
from dcc.transmissions import dmp, outbox
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.worker import Worker
from harness.simulators.dmp.server import DmpSimulator
from harness.simulators.faults import Fault, FaultMode
from tests.dcc.transmissions_support import AnsExamplePackager, make_document, make_patient

pytestmark = pytest.mark.persistence
TOKEN = jwt.encode(
    {"SubjectNameID": "810001234567", "token_use": "psc_trust_space", "exp": int(time.time()) + 3600},
    "k" * 32,
    algorithm="HS256",
)


@pytest.fixture
def factory(engine):
    factory = make_session_factory(engine)
    with factory() as session:  # the database is shared by the module: earlier jobs are set aside
        session.execute(update(Transmission).where(Transmission.state == "pending").values(state="failed"))
        session.commit()
    return factory


@pytest.fixture
def sim():
    with DmpSimulator() as simulator:
        yield simulator


def config(sim) -> TransmissionConfig:
    return TransmissionConfig(dmp_url=sim.endpoint_url, dmp_token=TOKEN, backoff_s=0.0)


def worker(factory, sim) -> Worker:
    cfg = config(sim)
    return Worker(factory, {"dmp": dmp.DmpChannel(cfg, AnsExamplePackager())}, cfg)


def drain(w: Worker) -> None:
    for _ in range(20):
        if not w.run_once():
            return


def provided(sim, **match) -> list[dict]:
    return [
        e.data
        for e in sim.evidence.events
        if e.type == "dmp.provide_and_register" and all(e.data.get(k) == v for k, v in match.items())
    ]


def validated_frcp_and_pps(factory, sim, ins="279035121518989"):
    with factory() as session:
        patient = make_patient(session, "qualifiee", matricule=ins)
        pps = make_document(session, patient, "PPS", "complete", recipients=())
        frcp = session.get(documents.Document, pps.frcp_id)
        # the FRCP was validated without routing in make_document: share it now, as its validation would have
        outbox.share_to_dmp(session, frcp, "dr.who", config(sim))
        session.commit()
        return patient.id, frcp.id, pps.id


def test_frcp_invisible_until_its_pps_then_replaced_visible(factory, sim):
    _, _, pps_id = validated_frcp_and_pps(factory, sim)
    drain(worker(factory, sim))
    [frcp_entry] = provided(sim, type_code="34794-8")
    assert frcp_entry["result"] == "success" and frcp_entry["invisible_patient"] is True
    assert frcp_entry["format_code"] == "urn:asip:ci-sis:frcp:2011" and frcp_entry["pps_in_dmp"] is False
    with factory() as session:
        jobs = outbox.validate_and_route(
            session, session.get(documents.Document, pps_id), "dr.who", config(sim)
        )
        assert "dmp" in {j.channel for j in jobs}
        session.commit()
    drain(worker(factory, sim))
    [pps_entry] = provided(sim, type_code="18776-5")
    assert pps_entry["result"] == "success" and pps_entry["invisible_patient"] is False
    assert (
        pps_entry["frcp_invisible_in_dmp"] is True
        and pps_entry["format_code"] == "urn:asip:ci-sis:pps-cancer:2017"
    )
    frcp_entries = provided(sim, type_code="34794-8")
    assert len(frcp_entries) == 2
    replacement = frcp_entries[1]
    assert replacement["result"] == "success" and replacement["invisible_patient"] is False
    assert (
        replacement["replaces"] == frcp_entry["unique_id"] and replacement["set_id"] == frcp_entry["set_id"]
    )
    assert [e.status for e in sim.entries if e.type_code == "34794-8"] == ["Deprecated", "Approved"]


def test_frcp_absent_when_the_pps_is_shared_is_submitted_visible(factory, sim):
    with factory() as session:
        patient = make_patient(session, "qualifiee", matricule="109076322083489")
        pps = make_document(session, patient, "PPS", "complete", recipients=())
        outbox.validate_and_route(session, pps, "dr.who", config(sim))
        session.commit()
    drain(worker(factory, sim))
    [pps_entry] = provided(sim, type_code="18776-5")
    assert pps_entry["frcp_in_dmp"] is False
    [frcp_entry] = provided(sim, type_code="34794-8")
    assert frcp_entry["invisible_patient"] is False and frcp_entry["replaces"] is None


def test_new_pps_version_replaces_the_previous_one(factory, sim):
    with factory() as session:
        patient = make_patient(session, "qualifiee")
        pps = make_document(session, patient, "PPS", "complete", recipients=())
        outbox.validate_and_route(session, pps, "dr.who", config(sim))
        session.commit()
        drain(worker(factory, sim))
        second = documents.new_version(session, pps, "dr.who")
        documents.set_status(session, second, "complete", "dr.who")
        outbox.validate_and_route(session, second, "dr.who", config(sim))
        session.commit()
    drain(worker(factory, sim))
    first, latest = provided(sim, type_code="18776-5")
    assert latest["replaces"] == first["unique_id"] and latest["set_id"] == first["set_id"]
    assert latest["unique_id"].endswith(f"^{second.id}")


def test_fault_dmp_new_version_without_rplc(factory, sim):
    with factory() as session:
        pps = make_document(session, make_patient(session, "qualifiee"), "PPS", "complete", recipients=())
        outbox.validate_and_route(session, pps, "dr.who", config(sim))
        session.commit()
        drain(worker(factory, sim))
        second = documents.new_version(session, pps, "dr.who")
        documents.set_status(session, second, "complete", "dr.who")
        outbox.validate_and_route(session, second, "dr.who", config(sim))
        session.commit()
    with faults.enabled("dmp_new_version_without_rplc"):
        drain(worker(factory, sim))
    assert provided(sim, type_code="18776-5")[-1]["replaces"] is None


def test_fault_frcp_visible_before_pps(factory, sim):
    validated_frcp_and_pps(factory, sim)
    with faults.enabled("frcp_visible_before_pps"):
        drain(worker(factory, sim))
    [frcp_entry] = provided(sim, type_code="34794-8")
    assert frcp_entry["invisible_patient"] is False and frcp_entry["pps_in_dmp"] is False


def test_opposition_blocks_feeding(factory, sim):
    with factory() as session:
        patient = make_patient(session, "qualifiee")
        pps = make_document(session, patient, "PPS", "complete", recipients=())
        outbox.record_dmp_choice(session, patient, "dr.who", opposition=True)
        jobs = outbox.validate_and_route(session, pps, "dr.who", config(sim))
        assert "dmp" not in {j.channel for j in jobs}
        with pytest.raises(outbox.TransmissionRefused) as refused:
            outbox.share_to_dmp(session, pps, "dr.who", config(sim))
        assert refused.value.reason == "opposition"
        event = session.scalars(
            select(DccEvent).where(DccEvent.type == "patient.dmp_opposition_recorded")
        ).first()
        assert event.data["ins"] == "279035121518989"
        session.commit()


def test_opposition_recorded_after_queueing_stops_the_delivery(factory, sim):
    with factory() as session:
        patient = make_patient(session, "qualifiee")
        pps = make_document(session, patient, "PPS", "complete", recipients=())
        [job] = [
            j for j in outbox.validate_and_route(session, pps, "dr.who", config(sim)) if j.channel == "dmp"
        ]
        outbox.record_dmp_choice(session, patient, "dr.who", opposition=True)
        session.commit()
    drain(worker(factory, sim))
    assert provided(sim) == []
    with factory() as session:
        assert session.get(Transmission, job.id).state == "failed"


def test_manual_share_rearms_a_failed_submission(factory, sim):
    sim.faults.inject(Fault(FaultMode.ERROR_5XX, "provide_and_register", times=None))
    with factory() as session:
        pps = make_document(session, make_patient(session, "qualifiee"), "PPS", "complete", recipients=())
        [job] = [
            j for j in outbox.validate_and_route(session, pps, "dr.who", config(sim)) if j.channel == "dmp"
        ]
        session.commit()
    cfg = TransmissionConfig(dmp_url=sim.endpoint_url, dmp_token=TOKEN, backoff_s=0.0, max_attempts=2)
    w = Worker(factory, {"dmp": dmp.DmpChannel(cfg, AnsExamplePackager())}, cfg)
    drain(w)
    with factory() as session:
        assert session.get(Transmission, job.id).state == "failed"
    sim.faults.clear()
    with factory() as session:
        again = outbox.share_to_dmp(session, session.get(documents.Document, pps.id), "dr.who", config(sim))
        assert again.id == job.id and again.state == "pending"
        session.commit()
        manual = session.scalars(
            select(DccEvent).where(DccEvent.type == "dmp.share_requested").order_by(DccEvent.id.desc())
        ).first()
        assert manual.data["trigger"] == "manual"
    drain(w)
    assert provided(sim, type_code="18776-5", result="success")


def test_interrupted_submission_is_found_by_stored_query_not_resent(factory, sim):
    _, frcp_id, _ = validated_frcp_and_pps(factory, sim)
    drain(worker(factory, sim))
    with factory() as session:
        job = session.scalars(select(Transmission).where(Transmission.document_id == frcp_id)).one()
        job.state, job.inflight_attempt = "pending", job.attempts
        session.commit()
    drain(worker(factory, sim))
    assert len(provided(sim)) == 1
    queries = [e.data for e in sim.evidence.events if e.type == "dmp.stored_query"]
    assert queries[-1]["query"] == "GetDocuments" and queries[-1]["count"] == 1


def test_duplicate_unique_id_is_taken_as_delivered(factory, sim):
    _, frcp_id, _ = validated_frcp_and_pps(factory, sim)
    drain(worker(factory, sim))
    with factory() as session:
        job = session.scalars(select(Transmission).where(Transmission.document_id == frcp_id)).one()
        job.state = "pending"  # the answer was lost: the DMP has it, the DCC does not know
        session.commit()
    drain(worker(factory, sim))
    with factory() as session:
        assert session.get(Transmission, job.id).state == "sent"


def test_consultation_with_consent_retrieves_and_keeps_locally(factory, sim):
    validated_frcp_and_pps(factory, sim, ins="279035121518989")
    drain(worker(factory, sim))
    client = dmp.DmpClient(sim.endpoint_url, TOKEN)
    with factory() as session:
        patient = make_patient(session, "qualifiee")
        cached = dmp.consult(session, patient, client, "dr.who")
        assert cached and cached[0].content.startswith(b"<?xml") and cached[0].type_code == "34794-8"
        session.commit()
    assert [e.data["query"] for e in sim.evidence.events if e.type == "dmp.stored_query"] == ["FindDocuments"]
    assert [e.data["result"] for e in sim.evidence.events if e.type == "dmp.retrieve"] == ["success"]


def test_consultation_without_consent_uses_the_local_copy_only(factory, sim):
    client = dmp.DmpClient(sim.endpoint_url, TOKEN)
    with factory() as session:
        patient = make_patient(session, "qualifiee")
        outbox.record_dmp_choice(session, patient, "dr.who", opposition=False, consent=False)
        before = session.scalars(select(DmpCachedDocument)).all()
        cached = dmp.consult(session, patient, client, "dr.who")
        assert len(cached) == len([c for c in before if c.patient_ins == "279035121518989"])
        event = session.scalars(
            select(DccEvent).where(DccEvent.type == "dmp.consulted").order_by(DccEvent.id.desc())
        ).first()
        assert event.data["source"] == "dmp_cache"
    assert not [e for e in sim.evidence.events if e.type == "dmp.stored_query"]


def test_timed_out_submission_is_asked_for_before_any_resend(factory, sim):
    """TRANS.04: the DMP registers the FRCP but answers after the DCC's timeout. The retry asks the registry
    (GetDocuments on the uniqueId) and records the delivery; it never submits the same uniqueId again."""
    _, frcp_id, _ = validated_frcp_and_pps(factory, sim)
    cfg = TransmissionConfig(dmp_url=sim.endpoint_url, dmp_token=TOKEN, backoff_s=0.0, http_timeout_s=0.3)
    w = Worker(factory, {"dmp": dmp.DmpChannel(cfg, AnsExamplePackager())}, cfg)
    sim.faults.inject(Fault(FaultMode.TIMEOUT, None, times=1, delay_s=0.8))
    assert w.run_once() == 1  # attempt 1 times out; the simulator registers it a moment later
    for _ in range(50):
        if provided(sim):
            break
        time.sleep(0.05)
    assert [e["result"] for e in provided(sim)] == ["success"]
    drain(worker(factory, sim))  # a worker with the usual timeouts: a loaded machine cannot fail the check
    assert len(provided(sim)) == 1 and not provided(sim, duplicate=True)
    queries = [e.data for e in sim.evidence.events if e.type == "dmp.stored_query"]
    assert queries and queries[-1]["query"] == "GetDocuments" and queries[-1]["count"] == 1
    with factory() as session:
        job = session.scalars(select(Transmission).where(Transmission.document_id == frcp_id)).one()
        assert job.state == "sent" and job.inflight_attempt is None
        attempts = [
            e.data
            for e in session.scalars(select(DccEvent).where(DccEvent.type == "transmission.attempt"))
            if e.data["transmission_id"] == job.id
        ]
        assert [(a["attempt"], a["result"], a.get("recovered")) for a in attempts] == [
            (1, "failure", None),
            (2, "success", True),
        ]


def test_timed_out_submission_the_registry_lacks_is_resent(factory, sim):
    """A submission that timed out before the DMP took it (the connection dropped) is sent again after the
    check: asking first must not turn a lost submission into a lost document."""
    validated_frcp_and_pps(factory, sim)
    sim.faults.inject(Fault(FaultMode.DROP, None, times=1))
    w = worker(factory, sim)
    drain(w)
    assert [e["result"] for e in provided(sim)] == ["success"]
    queries = [e.data for e in sim.evidence.events if e.type == "dmp.stored_query"]
    assert queries and queries[-1]["count"] == 0


def test_fault_dmp_opposition_ignored(factory, sim):
    with factory() as session:
        patient = make_patient(session, "qualifiee", matricule="109076322083489")
        pps = make_document(session, patient, "PPS", "complete", recipients=())
        outbox.record_dmp_choice(session, patient, "dr.who", opposition=True)
        with faults.enabled("dmp_opposition_ignored"):
            jobs = outbox.validate_and_route(session, pps, "dr.who", config(sim))
            assert "dmp" in {j.channel for j in jobs}
            session.commit()
            drain(worker(factory, sim))
    assert provided(sim, type_code="18776-5", result="success")


def test_fault_manual_dmp_share_deferred(factory, sim):
    sim.faults.inject(Fault(FaultMode.ERROR_5XX, "provide_and_register", times=None))
    with factory() as session:
        pps = make_document(session, make_patient(session, "qualifiee"), "PPS", "complete", recipients=())
        [job] = [
            j for j in outbox.validate_and_route(session, pps, "dr.who", config(sim)) if j.channel == "dmp"
        ]
        session.commit()
    w = worker(factory, sim)
    w.run_once()
    sim.faults.clear()
    with factory() as session, faults.enabled("manual_dmp_share_deferred"):
        again = outbox.share_to_dmp(session, session.get(documents.Document, pps.id), "dr.who", config(sim))
        assert again.id == job.id and again.state == "pending"
        session.commit()
    drain(w)
    assert not provided(sim, type_code="18776-5", result="success")  # booked for the night
    with factory() as session:
        deferred = session.get(Transmission, job.id)
        assert deferred.state == "pending" and deferred.next_attempt_at.hour == 2


def test_fault_dmp_fed_with_n1(factory, sim):
    with factory() as session:
        pps = make_document(session, make_patient(session, "qualifiee"), "PPS")
        outbox.validate_and_route(session, pps, "dr.who", config(sim))
        session.commit()
    with faults.enabled("dmp_fed_with_n1"):
        drain(worker(factory, sim))
    filed = provided(sim, result="success")
    assert filed and {e["format_code"] for e in filed} == {"urn:ihe:iti:xds-sd:pdf:2008"}
