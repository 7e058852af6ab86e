"""The outbox survives a real crash: the worker runs as its own process (``python -m dcc.transmissions.worker``),
is killed with SIGKILL at the worst moment — the MSSanté operator has taken the mail and acknowledged it, the
worker has not yet read the 250 nor written the result — twice, and restarted. Counting what the MSS simulator
received: every document arrived, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dcc.db import make_session_factory
from dcc.db.models import DccEvent, Transmission
from dcc.transmissions import outbox
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.inbound import InboundServer
from harness.simulators.mss.server import MssSimulator
from tests.dcc.transmissions_support import make_document, make_patient

pytestmark = [pytest.mark.persistence, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RECIPIENT = "crash.test@hopital.mssante.fr"
DOCUMENTS = 12
KILL_AT = (4, 9)  # the worker dies while the 4th, then the 9th, message is being accepted
WAIT_S = 90.0


def _worker(database_url: str, mss: MssSimulator) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DCC_PACKAGER": "tests.dcc.transmissions_support:packager",
        "DCC_MSS_SMTP": f"smtp://{mss.host}:{mss.port}",
        "DCC_MSS_SENDER": "dcc@dcc-region.mssante.fr",
        "DCC_OUTBOX_LEASE_S": "1",
        "DCC_OUTBOX_IN_DOUBT_S": "20",
        "DCC_OUTBOX_BACKOFF_S": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dcc.transmissions.worker", "--database-url", database_url, "--poll", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_delivery_loses_nothing_and_duplicates_nothing(engine, database_url):
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(update(Transmission).where(Transmission.state == "pending").values(state="failed"))
        patient = make_patient(session, "validee", nom="CRASH")
        ids = []
        for _ in range(DOCUMENTS):
            frcp = make_document(session, patient, "FRCP", "complete", recipients=(RECIPIENT,))
            [job] = outbox.validate_and_route(session, frcp, "dr.who", TransmissionConfig())
            ids.append(job.id)
        session.commit()

    current: dict[str, subprocess.Popen] = {}
    arrivals: list[str] = []
    killed = threading.Event()

    def on_mail(delivered) -> None:  # runs inside the MTA, after the DSN went out, before it answers 250
        arrivals.append(delivered.analysis.message_id)
        if len(arrivals) in KILL_AT:
            killed.set()  # first, so the waiting loop never takes this death for a crash of the worker
            current["worker"].send_signal(signal.SIGKILL)
            current["worker"].wait(timeout=30)  # dead before the MTA answers 250

    with InboundServer(factory) as inbound, MssSimulator(return_smtp=inbound.address) as mss:
        mss.add_mailbox(RECIPIENT, "PER", listener=on_mail)
        for round_ in range(len(KILL_AT) + 1):
            killed.clear()
            current["worker"] = _worker(database_url, mss)
            deadline = time.monotonic() + WAIT_S
            while True:  # bounded wait for the kill (or, last round, for every job to be sent)
                if round_ < len(KILL_AT) and killed.is_set():
                    break
                with factory() as session:
                    states = session.scalars(select(Transmission.state).where(Transmission.id.in_(ids))).all()
                if round_ == len(KILL_AT) and all(s == "sent" for s in states):
                    break
                if current["worker"].poll() is not None and not killed.is_set():
                    pytest.fail(
                        f"worker exited {current['worker'].returncode}: {current['worker'].stderr.read()!r}"
                    )
                assert time.monotonic() < deadline, f"round {round_}: {Counter(states)}"
                time.sleep(0.05)
            if round_ < len(KILL_AT):
                assert current["worker"].wait(timeout=30) == -signal.SIGKILL
        current["worker"].terminate()
        current["worker"].wait(timeout=30)
        deliveries = [e.data for e in mss.evidence.events if e.type == "mss.message_received"]

    per_message = Counter(d["message_id"] for d in deliveries)
    acks_lost = [
        e.data
        for e in mss.evidence.events
        if e.type == "mss.ack_sent" and e.data["delivered_to"] != inbound.address
    ]
    assert len(deliveries) == DOCUMENTS, (per_message, acks_lost)  # nothing lost, nothing twice
    assert set(per_message.values()) == {1}
    assert not any(d["duplicate"] for d in deliveries)
    assert len({d["document_id"] for d in deliveries}) == DOCUMENTS
    with factory() as session:
        jobs = session.scalars(select(Transmission).where(Transmission.id.in_(ids))).all()
        assert {j.state for j in jobs} == {"sent"}
        assert {j.external_id for j in jobs} == set(per_message)
        recovered = [
            e.data
            for e in session.scalars(select(DccEvent).where(DccEvent.type == "transmission.attempt"))
            if e.data["transmission_id"] in ids and e.data.get("recovered")
        ]
        assert len(recovered) == len(KILL_AT)  # each interrupted delivery was recognised, not resent
