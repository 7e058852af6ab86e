"""Outbox to the MSSanté simulator over real SMTP: Figure 10 deliveries, message format, acknowledgements (DSN and
error MDN) back to the DCC's inbound SMTP, retries with backoff, permanent failures, in-doubt recovery."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from dcc import faults
from dcc.db import make_session_factory
from dcc.db.models import DccEvent, Document, Transmission, TransmissionAttempt
from dcc.db.models_transmissions import TransmissionAck
from dcc.transmissions import outbox
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.inbound import InboundServer
from dcc.transmissions.worker import MssChannel, Worker
from harness.simulators.faults import Fault, FaultMode
from harness.simulators.mss.server import MssSimulator
from tests.dcc.transmissions_support import AnsExamplePackager, make_document, make_patient

pytestmark = pytest.mark.persistence
PS = "jean.martin@hopital.mssante.fr"
SENDER = "dcc@dcc-region.mssante.fr"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def factory(engine):
    return make_session_factory(engine)


@pytest.fixture(autouse=True)
def quiet_outbox(factory):
    """The database is shared by the module: jobs left pending by an earlier test are set aside."""
    with factory() as session:
        session.execute(update(Transmission).where(Transmission.state == "pending").values(state="failed"))
        session.commit()


@pytest.fixture
def inbound(factory):
    with InboundServer(factory) as server:
        yield server


@pytest.fixture
def mss(inbound):
    sim = MssSimulator(return_smtp=inbound.address)
    with sim:
        yield sim


def config_for(mss, **kw) -> TransmissionConfig:
    return TransmissionConfig(mss_smtp=(mss.host, mss.port), sender=SENDER, **kw)


def worker_for(factory, mss, clock=None, **kw) -> Worker:
    config = config_for(mss, **kw)
    channel = MssChannel(config, AnsExamplePackager())
    channels = {c: channel for c in ("mss_pro", "mss_citoyenne", "pdc", "peer_dcc", "peer_dcc_return", "dpi")}
    return Worker(factory, channels, config, clock=clock or (lambda: datetime.now(UTC)))


def drain(worker: Worker, clock: Clock | None = None, step: float = 0.0, rounds: int = 20) -> None:
    for _ in range(rounds):
        handled = worker.run_once()
        if not handled and (clock is None or step == 0):
            return
        if clock is not None:
            clock.advance(step)


def received(mss, type_="mss.message_received", **match):
    return [
        e.data
        for e in mss.evidence.events
        if e.type == type_ and all(e.data.get(k) == v for k, v in match.items())
    ]


def test_validated_pps_reaches_professional_pdc_and_patient_with_acks(factory, mss):
    with factory() as session:
        patient = make_patient(session, "qualifiee")
        pps = make_document(session, patient, "PPS", "complete", recipients=(PS,))
        jobs = outbox.validate_and_route(session, pps, "dr.who", config_for(mss))
        session.commit()
        assert sorted(j.channel for j in jobs) == ["dmp", "mss_citoyenne", "mss_pro", "pdc"]
        status_event = session.scalars(
            select(DccEvent).where(DccEvent.type == "document.status_changed").order_by(DccEvent.id.desc())
        ).first()
        assert status_event.data["to"] == "valide" and status_event.data["recipients"] == 1
    worker = worker_for(factory, mss)
    drain(worker)
    to_patient = received(mss, to_address="279035121518989@patient.mssante.fr")
    assert len(to_patient) == 1
    message = to_patient[0]
    assert message["headers"]["X-MSS-MES"] == "FIN" and message["headers"]["X-MSS-INS"] == "279035121518989"
    assert (
        message["has_cda_n1"] and message["has_cda_n3_pdf"] and message["has_pdf"] and message["xdm_complete"]
    )
    assert (
        message["type_codes"] == ["18776-5"]
        and message["patients"] == 1
        and message["subject_matches_patient"]
    )
    assert message["error_code"] is None
    pro = received(mss, to_address=PS)[0]
    assert pro["mailbox_types"] == ["PER"] and pro["has_pdf"] and pro["has_cda_n3_pdf"]
    assert received(mss, to_address="pdc@pdc.unicancer.mssante.fr")[0]["mailbox_types"] == ["PDC"]
    with factory() as session:
        states = {
            j.channel: j.state
            for j in session.scalars(select(Transmission).where(Transmission.document_id == pps.id))
        }
        assert states == {"dmp": "pending", "mss_citoyenne": "sent", "mss_pro": "sent", "pdc": "sent"}
        acks = session.scalars(
            select(TransmissionAck).where(TransmissionAck.transmission_id.is_not(None))
        ).all()
        # one DSN and one MDN per message, recorded against their transmission
        assert (
            sorted((a.kind, a.status) for a in acks)
            == [("dsn", "delivered")] * 3 + [("mdn", "processed")] * 3
        )
        recorded = session.scalars(select(DccEvent).where(DccEvent.type == "transmission.ack_recorded")).all()
        assert {e.data["message_id"] for e in recorded} == {m["message_id"] for m in received(mss)}


def test_non_qualified_identity_sends_traits_only_and_error_mdn_is_surfaced(factory, mss):
    with factory() as session:
        patient = make_patient(session, "provisoire_with_ins")  # matricule known, identity not qualifiée
        frcp = make_document(session, patient, "FRCP", "complete", recipients=(PS,))
        jobs = outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.commit()
        assert [j.channel for j in jobs] == ["mss_pro"]  # no PDC, no DMP (TRANS.02)
        job_id = jobs[0].id
    drain(worker_for(factory, mss))
    message = received(mss, to_address=PS)[0]
    assert message.get("patient_ins") is None and "X-MSS-INS" not in message["headers"]
    assert message["matricule_in_cda"] is False and message["error_code"] == 903
    with factory() as session:
        job = session.get(Transmission, job_id)
        assert (
            job.state == "sent" and "903" in job.last_error
        )  # delivered, but the receiver could not integrate
        error = session.scalars(
            select(TransmissionAck).where(
                TransmissionAck.transmission_id == job_id, TransmissionAck.status == "error"
            )
        ).one()
        assert error.code == "903"


def test_fault_matricule_in_non_qualified_message(factory, mss):
    with factory() as session:
        patient = make_patient(session, "provisoire_with_ins", nom="FAUTE")
        frcp = make_document(session, patient, "FRCP", "complete", recipients=(PS,))
        outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.commit()
    with faults.enabled("matricule_in_non_qualified_message"):
        drain(worker_for(factory, mss))
    assert received(mss, to_address=PS)[0]["patient_ins"] == "279035121518989"


def test_fault_no_processing_ack_requested(factory, mss):
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=(PS,))
        outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.commit()
    with faults.enabled("no_processing_ack_requested"):
        drain(worker_for(factory, mss))
    messages = received(mss, to_address=PS)
    assert messages and all("Disposition-Notification-To" not in m["headers"] for m in messages)
    assert not [e for e in mss.evidence.events if e.type == "mss.ack_sent" and e.data["kind"] == "mdn"]


def _one_frcp(factory, mss) -> int:
    with factory() as session:
        frcp = make_document(session, make_patient(session, "validee"), "FRCP", "complete", recipients=(PS,))
        [job] = outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.commit()
        return job.id


def test_transient_failures_are_retried_with_exponential_backoff(factory, mss):
    job_id = _one_frcp(factory, mss)
    mss.faults.inject(Fault(FaultMode.ERROR_5XX, "DATA", times=2))
    clock = Clock()
    worker = worker_for(factory, mss, clock, backoff_s=10.0)
    start = clock.now
    assert worker.run_once() == 1  # attempt 1: 451
    assert worker.run_once() == 0  # not due before the backoff
    with factory() as session:
        job = session.get(Transmission, job_id)
        assert job.state == "pending" and "451" in job.last_error
        assert job.next_attempt_at.replace(tzinfo=UTC) == start + timedelta(seconds=10)
    clock.advance(10)
    assert worker.run_once() == 1  # attempt 2: 451 again, next in 20 s
    clock.advance(19)
    assert worker.run_once() == 0
    clock.advance(1)
    assert worker.run_once() == 1  # attempt 3 succeeds
    with factory() as session:
        attempts = session.scalars(
            select(TransmissionAttempt).where(TransmissionAttempt.transmission_id == job_id)
        ).all()
        assert [(a.attempt, a.result) for a in attempts] == [(1, "failure"), (2, "failure"), (3, "success")]
        job = session.get(Transmission, job_id)
        assert job.state == "sent"
        document = session.get(Document, job.document_id)
        # each attempt carries the regional dashboard's dimensions (dcc.tbb.extract counts them without a join)
        assert {(a.month, a.channel, a.kind, a.finess, a.rpps) for a in attempts} == {
            (
                (a.at if a.at.tzinfo is None else a.at.astimezone(UTC)).strftime("%Y-%m"),
                job.channel,
                document.kind,
                job.finess or document.finess,
                job.rpps or document.author_rpps,
            )
            for a in attempts
        }
        assert None not in (attempts[0].month, attempts[0].kind)  # FINESS, RPPS: none in this test
        events = session.scalars(select(DccEvent).where(DccEvent.type == "transmission.attempt")).all()
        assert [e.data["result"] for e in events if e.data["transmission_id"] == job_id] == [
            "failure",
            "failure",
            "success",
        ]
    assert len(received(mss, to_address=PS)) == 1


def test_fault_no_retry_on_failure(factory, mss):
    job_id = _one_frcp(factory, mss)
    mss.faults.inject(Fault(FaultMode.ERROR_5XX, "DATA", times=1))
    with faults.enabled("no_retry_on_failure"):
        worker_for(factory, mss, backoff_s=0.0).run_once()
    with factory() as session:
        assert session.get(Transmission, job_id).state == "failed"


def test_permanent_refusal_is_not_retried_and_reported(factory, mss):
    job_id = _one_frcp(factory, mss)
    mss.faults.inject(Fault(FaultMode.REFUSE, "DATA", times=1))
    drain(worker_for(factory, mss, backoff_s=0.0))
    with factory() as session:
        job = session.get(Transmission, job_id)
        assert job.state == "failed" and job.attempts == 1 and "554" in job.last_error
        failed = session.scalars(select(DccEvent).where(DccEvent.type == "transmission.failed")).all()
        assert job_id in {e.data["transmission_id"] for e in failed}


def test_smtp_server_down_is_transient(factory, mss):
    job_id = _one_frcp(factory, mss)
    config = TransmissionConfig(mss_smtp=("127.0.0.1", 1), sender=SENDER, backoff_s=0.0)
    channel = MssChannel(config, AnsExamplePackager())
    Worker(factory, {"mss_pro": channel}, config).run_once()
    with factory() as session:
        job = session.get(Transmission, job_id)
        assert job.state == "pending" and job.attempts == 1 and "Connection" in job.last_error


def _interrupted_after_delivery(factory, mss) -> int:
    """A delivery that arrived (and was acknowledged) but whose result the worker never wrote: a crash."""
    job_id = _one_frcp(factory, mss)
    drain(worker_for(factory, mss))
    with factory() as session:
        job = session.get(Transmission, job_id)
        job.state, job.inflight_attempt, job.inflight_at, job.delivered_at = (
            "pending",
            1,
            job.delivered_at,
            None,
        )
        session.commit()
    return job_id


def test_interrupted_delivery_is_recognised_not_resent(factory, mss):
    job_id = _interrupted_after_delivery(factory, mss)
    drain(worker_for(factory, mss))
    assert len(received(mss, to_address=PS)) == 1
    with factory() as session:
        assert session.get(Transmission, job_id).state == "sent"
        last = session.scalars(
            select(DccEvent).where(DccEvent.type == "transmission.attempt").order_by(DccEvent.id.desc())
        ).first()
        assert last.data["recovered"] is True and last.data["result"] == "success"


def test_fault_outbox_duplicates_on_retry(factory, mss):
    _interrupted_after_delivery(factory, mss)
    with faults.enabled("outbox_duplicates_on_retry"):
        drain(worker_for(factory, mss))
    deliveries = received(mss, to_address=PS)
    assert len(deliveries) == 2 and deliveries[1]["duplicate"] is True


def test_unacknowledged_interrupted_delivery_waits_then_resends(factory, mss):
    job_id = _one_frcp(factory, mss)
    clock = Clock()
    with factory() as session:
        job = session.get(Transmission, job_id)
        job.attempts, job.inflight_attempt, job.inflight_at = (
            1,
            1,
            clock.now,
        )  # crashed before reaching the MTA
        session.commit()
    worker = worker_for(factory, mss, clock, in_doubt_grace_s=30.0)
    worker.run_once()
    assert received(mss, to_address=PS) == []  # waits for a late acknowledgement first
    clock.advance(31)
    worker.run_once()
    assert len(received(mss, to_address=PS)) == 1
    with factory() as session:
        assert session.get(Transmission, job_id).attempts == 2


def test_queueing_twice_is_a_no_op_and_rollback_queues_nothing(factory, mss):
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=(PS,))
        session.commit()
        outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.rollback()
        assert session.scalars(select(Transmission).where(Transmission.document_id == frcp.id)).all() == []


@pytest.mark.parametrize(
    ("fault", "header"),
    [("patient_message_without_fin", "X-MSS-MES"), ("no_x_mss_codecda", "X-MSS-CODECDA")],
)
def test_faults_dropping_an_x_mss_header(factory, mss, fault, header):
    with factory() as session:
        pps = make_document(session, make_patient(session), "PPS", "complete", recipients=(PS,))
        outbox.validate_and_route(session, pps, "dr.who", config_for(mss))
        session.commit()
    with faults.enabled(fault):
        drain(worker_for(factory, mss))
    patient = received(mss, to_address="279035121518989@patient.mssante.fr")
    assert patient and all(header not in m["headers"] for m in patient)


def test_fault_subject_without_birth_date(factory, mss):
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=(PS,))
        outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.commit()
    with faults.enabled("subject_without_birth_date"):
        drain(worker_for(factory, mss))
    [message] = received(mss, to_address=PS)
    assert message["subject"].endswith("DOMINIQUE") and message["subject_matches_patient"] is False


def test_fault_new_version_sent_before_validation(factory, mss):
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=(PS,))
        assert (
            outbox.version_created(
                session,
                frcp,
                "dr.who",
            )
            == []
        )
        with faults.enabled("new_version_sent_before_validation"):
            jobs = outbox.version_created(session, frcp, "dr.who")
        assert [(j.channel, j.recipient, j.document_status) for j in jobs] == [("mss_pro", PS, "complete")]


def _wait_for(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        time.sleep(0.05)


def test_timed_out_delivery_is_acknowledged_not_resent(factory, mss):
    """TRANS.04: the operator takes the mail but answers after the DCC's SMTP timeout. The retry first looks for
    the DSN of that Message-ID, finds it, records the delivery: the professional gets the mail once."""
    job_id = _one_frcp(factory, mss)
    stalls = [0.8]  # the first mail is stored and acknowledged, then its 250 comes after the DCC gave up

    def slow_answer(_delivered) -> None:
        if stalls:
            time.sleep(stalls.pop())

    mss.add_mailbox(PS, "PER", listener=slow_answer)
    worker = worker_for(factory, mss, backoff_s=0.0, smtp_timeout_s=0.3, in_doubt_grace_s=30.0)
    assert worker.run_once() == 1  # times out
    with factory() as session:
        job = session.get(Transmission, job_id)
        assert job.state == "pending" and job.inflight_attempt == 1  # in doubt, not just failed
    _wait_for(lambda: received(mss, to_address=PS))
    _wait_for(lambda: acks_recorded(factory, job_id))
    drain(worker_for(factory, mss, backoff_s=0.0, in_doubt_grace_s=30.0))  # usual SMTP timeout from here
    assert len(received(mss, to_address=PS)) == 1 and not received(mss, duplicate=True)
    with factory() as session:
        job = session.get(Transmission, job_id)
        assert job.state == "sent" and job.inflight_attempt is None
        attempts = session.scalars(
            select(TransmissionAttempt).where(TransmissionAttempt.transmission_id == job_id)
        ).all()
        assert [(a.attempt, a.result) for a in attempts] == [(1, "failure"), (2, "success")]


def test_timed_out_delivery_without_acknowledgement_waits_then_resends(factory, mss):
    """No DSN comes for the timed-out attempt (the mail never reached the operator): the retry waits the in-doubt
    grace, then sends, so a lost mail is still delivered (TRANS.05)."""
    job_id = _one_frcp(factory, mss)
    clock = Clock()
    worker = worker_for(factory, mss, clock, backoff_s=0.0, in_doubt_grace_s=30.0)
    mss.faults.inject(Fault(FaultMode.DROP, "DATA", times=1))
    assert worker.run_once() == 1  # the connection drops: in doubt
    worker.run_once()  # the retry is due (no backoff) but waits for a late acknowledgement
    assert received(mss, to_address=PS) == []  # waiting for a late acknowledgement
    clock.advance(31)
    drain(worker)
    assert len(received(mss, to_address=PS)) == 1
    with factory() as session:
        assert session.get(Transmission, job_id).state == "sent"


def test_refused_connection_is_retried_without_waiting(factory, mss):
    """A refused connection never reached the receiver: nothing to ask, the retry follows the backoff only."""
    job_id = _one_frcp(factory, mss)
    config = TransmissionConfig(mss_smtp=("127.0.0.1", 1), sender=SENDER, backoff_s=0.0)
    Worker(factory, {"mss_pro": MssChannel(config, AnsExamplePackager())}, config).run_once()
    with factory() as session:
        assert session.get(Transmission, job_id).inflight_attempt is None


def acks_recorded(factory, job_id: int) -> bool:
    with factory() as session:
        return bool(
            session.scalars(select(TransmissionAck).where(TransmissionAck.transmission_id == job_id)).all()
        )


def test_fault_professional_mail_without_xdm(factory, mss):
    with factory() as session:
        pps = make_document(session, make_patient(session), "PPS", "complete", recipients=(PS,))
        outbox.validate_and_route(session, pps, "dr.who", config_for(mss))
        session.commit()
    with faults.enabled("professional_mail_without_xdm"):
        drain(worker_for(factory, mss))
    [pro] = received(mss, to_address=PS)
    assert pro["xdm"] is None and pro["xdm_complete"] is False and pro["document_id"] is None
    assert pro["error_code"] == 906  # the receiving software has no archive to integrate
    patient = received(mss, to_address="279035121518989@patient.mssante.fr")
    assert patient and patient[0]["xdm_complete"] is True  # the other channels keep their archive


def test_fault_mails_grouped_per_recipient(factory, mss):
    with factory() as session:
        for nom in ("PREMIER", "SECOND"):
            patient = make_patient(session, "validee", nom=nom)
            frcp = make_document(session, patient, "FRCP", "complete", recipients=(PS,))
            outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        session.commit()
    with faults.enabled("mails_grouped_per_recipient"):
        drain(worker_for(factory, mss))
    first, second = received(mss, to_address=PS)
    assert first["patients"] == 2 and second["patients"] == 1


def test_fault_frcp_sent_to_professionals_by_hand_only(factory, mss):
    with factory() as session:
        frcp = make_document(session, make_patient(session, "validee"), "FRCP", "complete", recipients=(PS,))
        with faults.enabled("frcp_sent_to_professionals_by_hand_only"):
            jobs = outbox.validate_and_route(session, frcp, "dr.who", config_for(mss))
        assert "mss_pro" not in {j.channel for j in jobs}
        manual = outbox.send_to_professionals(session, frcp, "dr.who", outbox.recipients_of(frcp))
        assert [(j.channel, j.trigger) for j in manual] == [("mss_pro", "manual")]
        session.rollback()
