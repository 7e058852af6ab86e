"""FRCP exchange between DCC (2.1.4) over real SMTP: the source sends an FRCP « complétée » to the peer DCC
simulator's BAL applicative, it becomes read-only here, the peer validates it and mails the next version back,
which replaces the local copy; a returned CDA that cannot be read is refused with an error MDN; an FRCP received
from another DCC is integrated (identity matched), validated here with a new version and routed back."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from dcc import identifiers
from dcc.db import make_session_factory
from dcc.db.models import DccEvent, Document, Transmission
from dcc.db.models_transmissions import InboundMessage
from dcc.services import documents
from dcc.transmissions import exchange, outbox
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.inbound import InboundServer, handle_mail
from dcc.transmissions.worker import MssChannel, Worker
from harness.simulators.faults import Fault, FaultMode
from harness.simulators.mss.server import MssSimulator
from harness.simulators.peer_dcc.server import PeerDccSimulator
from tests.dcc.transmissions_support import AnsExamplePackager, make_document, make_patient

pytestmark = pytest.mark.persistence
SENDER = "dcc@dcc-region.mssante.fr"
PEER = "rcp@dcc-pair.mssante.fr"


@pytest.fixture
def factory(engine):
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(update(Transmission).where(Transmission.state == "pending").values(state="failed"))
        session.commit()
    return factory


@pytest.fixture
def network(factory):
    """MSS simulator (acks to our inbound SMTP), the peer DCC on it, and our BAL applicative fed to the DCC."""
    with InboundServer(factory) as inbound, MssSimulator(return_smtp=inbound.address) as mss:
        config = TransmissionConfig(mss_smtp=(mss.host, mss.port), sender=SENDER, backoff_s=0.0)

        def to_dcc(delivered) -> None:
            raw = delivered.analysis.message.as_bytes()
            handle_mail(
                factory,
                raw,
                delivered.sender,
                lambda session, raw, sender: exchange.receive_document(session, raw, sender, config),
            )

        mss.add_mailbox(SENDER, "APP", listener=to_dcc)
        with PeerDccSimulator(mss=mss, address=PEER) as peer:
            yield mss, peer, config


def deliver(factory, config) -> None:
    channel = MssChannel(config, AnsExamplePackager())
    worker = Worker(factory, {c: channel for c in ("mss_pro", "peer_dcc", "peer_dcc_return")}, config)
    for _ in range(10):
        if not worker.run_once():
            return


def last(session, type_):
    return session.scalars(
        select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id.desc())
    ).first()


def test_sent_frcp_is_read_only_then_replaced_by_the_validated_return(factory, network):
    mss, peer, config = network
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=())
        job = outbox.send_to_peer(session, frcp, "dr.who", PEER, config)
        assert job.channel == "peer_dcc" and job.format == "n3+pdf"
        session.commit()
        with pytest.raises(documents.DocumentRuleError) as refused:
            exchange.enter(session, frcp, "question", "changée", "dr.who")
        assert refused.value.reason == "sent_to_peer"
        assert last(session, "document.modification_refused").data["reason"] == "sent_to_peer"
        session.commit()
        frcp_id, set_id = frcp.id, frcp.set_id
    deliver(factory, config)
    assert peer.wait_idle(30)
    [arrived] = [
        e.data
        for e in mss.evidence.events
        if e.type == "mss.message_received" and e.data["to_address"] == PEER
    ]
    assert "APP" in arrived["mailbox_types"] and "cda_n3" in arrived["document_formats"]
    assert peer.returned and peer.returned[0]["result"] == "success"
    with factory() as session:
        versions = session.scalars(
            select(Document).where(Document.set_id == set_id).order_by(Document.version)
        ).all()
        assert [(d.version, d.status) for d in versions] == [(1, "complete"), (2, "valide")]
        assert versions[1].replaces_id == frcp_id and versions[1].read_only_reason == "peer_custodian"
        replaced = last(session, "document.replaced_by_peer").data
        assert replaced["version"] == 2 and replaced["status"] == "valide"
        assert replaced["custodian"] == "1.2.250.1.71.4.2.2^1690000002"


def test_unreadable_return_is_refused_with_an_error_mdn(factory, network):
    mss, peer, config = network
    peer.faults.inject(Fault(FaultMode.MALFORMED, "return"))
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=())
        outbox.send_to_peer(session, frcp, "dr.who", PEER, config)
        session.commit()
    deliver(factory, config)
    assert peer.wait_idle(30)
    with factory() as session:
        refused = last(session, "document.integration_refused").data
        assert refused["code"] == "906" and "not well-formed" in refused["reason"]
        ack = last(session, "mss.ack_sent").data
        assert (
            ack["kind"] == "mdn"
            and ack["code"] == "906"
            and ack["original_message_id"] == refused["message_id"]
        ), ack
        assert (
            session.scalar(
                select(InboundMessage).where(InboundMessage.message_id == refused["message_id"])
            ).result
            == "refused"
        )
    # the error MDN went back to the peer through the MSS operator
    mdns = [
        e.data
        for e in mss.evidence.events
        if e.type == "mss.message_received" and e.data["to_address"] == PEER
    ]
    assert any("[KO Intégration système !][906]" in (m["subject"] or "") for m in mdns), (
        ack["delivered_to"],
        [m["subject"] for m in mdns],
    )


def test_only_a_complete_frcp_is_exchanged(factory, network):
    _, _, config = network
    with factory() as session:
        frcp = make_document(session, make_patient(session), "FRCP", "en_cours", recipients=())
        with pytest.raises(outbox.TransmissionRefused):
            outbox.send_to_peer(session, frcp, "dr.who", PEER, config)


def test_fault_peer_frcp_stays_editable(factory, network):
    from dcc import faults

    _, _, config = network
    with factory() as session, faults.enabled("peer_frcp_stays_editable"):
        frcp = make_document(session, make_patient(session), "FRCP", "complete", recipients=())
        outbox.send_to_peer(session, frcp, "dr.who", PEER, config)
        exchange.enter(session, frcp, "question", "changée", "dr.who")  # not refused
        assert frcp.content["question"] == "changée"


def test_frcp_from_another_dcc_is_integrated_validated_and_returned(factory, network):
    mss, _, config = network
    # another DCC (played here by a second DCC database row set) sends its FRCP « complétée » to our BAL
    with factory() as session:
        patient = make_patient(session, "qualifiee", nom="ECHANGE", matricule="209076322083439")
        theirs = make_document(session, patient, "FRCP", "complete", recipients=())
        files = AnsExamplePackager().package(session, theirs, "n3+pdf")
        # make it a foreign set: this DCC must not recognise it as its own
        cda = files[0].content.replace(
            identifiers.set_id(theirs).encode(), b"4f1c2d3e-0000-4000-8000-0000000000aa"
        )
        from email.message import EmailMessage

        from dcc.transmissions.xdm import build_xdm

        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            PEER,
            SENDER,
            "XDM/1.0/DDM+Fiche RCP ECHANGE DOMINIQUE 28/03/1979",
        )
        message["Message-ID"] = "<frcp-from-peer-1@dcc-pair.mssante.fr>"
        message["X-MSS-INS"] = "209076322083439"
        message.set_content("FRCP")
        message.add_attachment(
            build_xdm([files[0]._replace(content=cda)], "FRCP", "x", "1.2.3"),
            maintype="application",
            subtype="zip",
            filename="IHE_XDM.zip",
        )
        session.commit()
    reply = mss.deliver(message.as_bytes(), PEER, [SENDER])
    assert reply.startswith("250")
    mss.deliver(message.as_bytes(), PEER, [SENDER])  # delivered twice: integrated once
    with factory() as session:
        received = session.scalars(
            select(Document).where(Document.set_id == "4f1c2d3e-0000-4000-8000-0000000000aa")
        ).all()
        assert len(received) == 1
        local = received[0]
        assert (local.version, local.status, local.patient_id) == (2, "complete", patient.id)
        matched = last(session, "identity.matched").data
        assert matched["match"] == "ins" and matched["patient_id"] == str(patient.id)
        jobs = outbox.validate_and_route(
            session, local, "dr.who", config, professionals=(), peer_dcc=exchange.return_recipients(local)
        )
        assert [(j.channel, j.recipient) for j in jobs if j.channel.startswith("peer")] == [
            ("peer_dcc_return", PEER)
        ]
        session.commit()
