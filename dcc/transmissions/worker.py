"""The outbox worker: leases due jobs, delivers them, records every attempt, retries with exponential backoff.

Exactly-once towards the receivers, even when the worker is killed mid-delivery:

1. a job is *leased* (compare-and-set on ``leased_until``/``lease_owner``, portable to SQLite and PostgreSQL), so
   two workers never hold it together;
2. before touching the network the attempt is *committed as in flight* (``inflight_attempt``); the external id
   (Message-ID, XDS uniqueId) was fixed when the job was queued;
3. after the answer the result is committed (attempt row, ``transmission.attempt`` event, state).

A worker that dies between 2 and 3 leaves the job in flight; so does a delivery that failed *in doubt* (a
timeout or a dropped connection after the request went out: the receiver may have it). When its lease expires, or
its retry is due, the next worker first asks the receiver whether that external id arrived — the DMP by a
GetDocuments stored query, MSSanté by the DSN/MDN recorded for that Message-ID (the operator acknowledges before it
answers 250) — and only resends when it did not (after ``in_doubt_grace_s`` for MSS, so a late DSN can still
arrive). Run ``python -m dcc.transmissions.worker``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dcc import events, faults, identifiers
from dcc.db.models import Document, Transmission, TransmissionAttempt
from dcc.transmissions import acks, routing
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.errors import DeliveryError
from dcc.transmissions.packaging import DocumentPackager, PackagingError

log = logging.getLogger("dcc.transmissions.worker")

FAULT_DUPLICATES = faults.register(
    "outbox_duplicates_on_retry",
    "an interrupted delivery is sent again without asking the receiver whether it already arrived",
    breaks=["TRANS.04"],
)
FAULT_NO_RETRY = faults.register(
    "no_retry_on_failure",
    "a failed transmission is given up at once, never retried",
    breaks=["TRANS.05"],
)

FAULT_GROUPED = faults.register(
    "mails_grouped_per_recipient",
    "the documents waiting for the same professional leave in one mail, whatever their patient (one IHE_XDM.zip "
    "with the CDA of several patients)",
    breaks=["MSS/CDA.02"],
)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Channel(Protocol):
    """Delivery for one family of channels. ``prepare`` builds the bytes (in a session), ``send`` talks to the
    receiver (no session: nothing is held open on the network), ``delivered`` answers « did this external id
    arrive? » (True, False, or None when it cannot tell yet), ``after_success`` books what follows a success."""

    def prepare(self, session: Session, job: Transmission) -> Any: ...

    def send(self, prepared: Any) -> str | None: ...

    def delivered(self, session: Session, job: Transmission) -> bool | None: ...

    def after_success(self, session: Session, job: Transmission, prepared: Any) -> None: ...


@dataclass
class MssChannel:
    config: TransmissionConfig
    packager: DocumentPackager

    def prepare(self, session: Session, job: Transmission) -> Any:
        from dcc.db.models import Patient
        from dcc.transmissions import mss

        document = session.get(Document, job.document_id)
        patient = session.get(Patient, document.patient_id)
        files = self.packager.package(session, document, job.format)
        if job.channel == routing.MSS_PRO:
            for other in self._also_due(session, job):  # only with the fault mails_grouped_per_recipient
                files += self.packager.package(
                    session, session.get(Document, other.document_id), other.format
                )
        return job.recipient, mss.build_message(job, document, patient, files, self.config)

    @staticmethod
    def _also_due(session: Session, job: Transmission) -> list[Transmission]:
        """With the fault, the other documents waiting for the same professional travel in this mail too (a
        digest per recipient), whatever their patient. The fault is asked only when there are such documents, so
        the fault proof replays only the scenarios where grouping could change something."""
        others = session.scalars(
            select(Transmission)
            .where(
                Transmission.channel == job.channel,
                Transmission.state == "pending",
                Transmission.id != job.id,
                Transmission.document_id != job.document_id,
            )
            .order_by(Transmission.id)
        ).all()
        others = [o for o in others if o.recipient.lower() == job.recipient.lower()]
        return others if others and faults.active(FAULT_GROUPED.name) else []

    def send(self, prepared: Any) -> str | None:
        from dcc.transmissions import mss

        recipient, message = prepared
        return mss.send(message, recipient, self.config)

    def delivered(self, session: Session, job: Transmission) -> bool | None:
        return True if acks.acknowledged(session, job.external_id or "") else None

    def after_success(self, session: Session, job: Transmission, prepared: Any) -> None:
        return None


@dataclass
class Worker:
    session_factory: sessionmaker[Session]
    channels: dict[str, Channel]
    config: TransmissionConfig = field(default_factory=TransmissionConfig.from_environment)
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    batch: int = 20
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # -- leasing ---------------------------------------------------------------------------------------------
    def lease(self) -> list[int]:
        now = self.clock()
        until = now + timedelta(seconds=self.config.lease_s)
        free = or_(Transmission.leased_until.is_(None), Transmission.leased_until < now)
        with self.session_factory() as session:
            candidates = session.scalars(
                select(Transmission.id)
                .where(Transmission.state == "pending", Transmission.next_attempt_at <= now, free)
                .where(Transmission.channel.in_(sorted(self.channels)))  # others are for another worker
                .order_by(Transmission.next_attempt_at, Transmission.id)
                .limit(self.batch)
            ).all()
            leased = []
            for job_id in candidates:
                taken = session.execute(
                    update(Transmission)
                    .where(Transmission.id == job_id, Transmission.state == "pending", free)
                    .values(leased_until=until, lease_owner=self.owner)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:
                    leased.append(job_id)
            session.commit()
        return leased

    def run_once(self) -> int:
        """Leases and handles what is due; returns how many jobs it handled."""
        leased = self.lease()
        for job_id in leased:
            try:
                self.process(job_id)
            except Exception:  # one broken job must not stop the others; it stays leased until expiry
                log.exception("transmission %s: unexpected error", job_id)
        return len(leased)

    def run(self, poll_s: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            if self.run_once() == 0:
                time.sleep(poll_s)

    # -- one job ---------------------------------------------------------------------------------------------
    def process(self, job_id: int) -> None:
        with self.session_factory() as session:
            job = session.get(Transmission, job_id)
            if job is None or job.lease_owner != self.owner or job.state != "pending":
                return
            channel = self.channels.get(job.channel)
            if channel is None:
                self._conclude(
                    session, job, job.attempts + 1, DeliveryError(f"no deliverer for {job.channel}", False)
                )
                session.commit()
                return
            if job.inflight_attempt is not None and not faults.active(FAULT_DUPLICATES.name):
                if self._recover(session, job, channel):
                    session.commit()
                    return
            attempt = job.attempts + 1
            try:
                prepared = channel.prepare(session, job)
            except (PackagingError, DeliveryError) as error:
                transient = isinstance(error, DeliveryError) and error.transient
                self._conclude(session, job, attempt, DeliveryError(f"preparation: {error}", transient))
                session.commit()
                return
            job.attempts = attempt
            job.inflight_attempt, job.inflight_at = attempt, self.clock()
            session.commit()  # in flight: from here a crash leaves a job the next worker checks before resending
            error: DeliveryError | None = None
            try:
                channel.send(prepared)
            except DeliveryError as failure:
                error = failure
            job = session.get(Transmission, job_id)
            self._conclude(session, job, attempt, error, in_doubt=error is not None and error.in_doubt)
            if error is None:
                channel.after_success(session, job, prepared)
            session.commit()

    def _recover(self, session: Session, job: Transmission, channel: Channel) -> bool:
        """An attempt was interrupted: True when the receiver already has it (success recorded, no resend) or
        the job was put back to wait for its acknowledgement."""
        try:
            verdict = channel.delivered(session, job)
        except DeliveryError as error:
            log.warning("transmission %s: cannot check the interrupted attempt (%s)", job.id, error)
            verdict = None
        if verdict:
            attempt = job.inflight_attempt or job.attempts
            failure_recorded = session.scalar(
                select(TransmissionAttempt.id).where(
                    TransmissionAttempt.transmission_id == job.id, TransmissionAttempt.attempt == attempt
                )
            )
            if failure_recorded is not None:
                attempt = job.attempts + 1  # it timed out, recorded as failed: the check is the next attempt
            self._conclude(session, job, attempt, None, recovered=True)
            channel.after_success(session, job, None)
            return True
        started = _aware(job.inflight_at) or self.clock()
        wait_until = started + timedelta(seconds=self.config.in_doubt_grace_s)
        if verdict is None and self.clock() < wait_until:
            job.next_attempt_at, job.leased_until, job.lease_owner = wait_until, None, None
            return True
        return False

    def _conclude(
        self,
        session: Session,
        job: Transmission,
        attempt: int,
        error: DeliveryError | None,
        recovered: bool = False,
        in_doubt: bool = False,
    ) -> None:
        """Records the attempt's result. ``in_doubt``: the failure may hide a delivery (timeout after sending), so
        the job stays marked in flight and its retry goes through :meth:`_recover`, which asks the receiver first."""
        from dcc.db.models import Patient

        now = self.clock()
        started = job.inflight_at
        document = session.get(Document, job.document_id)
        patient = session.get(Patient, document.patient_id)
        result = "success" if error is None else "failure"
        session.add(
            TransmissionAttempt(
                transmission_id=job.id,
                attempt=attempt,
                at=now,
                result=result,
                error=None if error is None else str(error)[:2000],
                ins_qualified=patient.identity_status == routing.QUALIFIEE,
                # the regional dashboard's dimensions, copied now so its counts need no join (dcc.tbb.extract)
                month=_aware(now).astimezone(UTC).strftime("%Y-%m"),
                channel=job.channel,
                kind=document.kind,
                finess=job.finess or document.finess,
                rpps=job.rpps or document.author_rpps,
            )
        )
        job.attempts = max(job.attempts, attempt)
        job.inflight_attempt = job.inflight_at = None
        job.leased_until = job.lease_owner = None
        if error is None:
            job.state, job.delivered_at, job.last_error = "sent", now, None
        else:
            job.last_error = str(error)[:2000]
            retry = (
                error.transient
                and attempt < self.config.max_attempts
                and not faults.active(FAULT_NO_RETRY.name)
            )
            if retry:
                delay = min(self.config.backoff_s * 2 ** (attempt - 1), self.config.backoff_max_s)
                job.next_attempt_at = now + timedelta(seconds=delay)
                if in_doubt:
                    job.inflight_attempt, job.inflight_at = attempt, started or now
            else:
                job.state = "failed"
        session.flush()
        fields = {
            "transmission_id": job.id,
            "document_id": identifiers.document_id(document),
            "kind": document.kind,
            "channel": job.channel,
            "recipient": job.recipient,
            "attempt": attempt,
            "result": result,
            "error": None if error is None else str(error),
            "external_id": job.external_id,
            "finess": job.finess,
            "ins_qualified": patient.identity_status == routing.QUALIFIEE,
        }
        if recovered:
            fields["recovered"] = True  # the interrupted attempt had arrived: not sent again
        events.emit(session, "transmission.attempt", **fields)
        if job.state == "failed":
            events.emit(
                session,
                "transmission.failed",
                transmission_id=job.id,
                document_id=fields["document_id"],
                channel=job.channel,
                recipient=job.recipient,
                attempts=attempt,
                error=job.last_error,
            )


def build_worker(
    session_factory: sessionmaker[Session],
    config: TransmissionConfig | None = None,
    packager: DocumentPackager | None = None,
    dmp_token: Callable[[Transmission], str] | None = None,
    **kwargs: Any,
) -> Worker:
    """A worker with every channel wired: MSS ones always, the DMP when ``config.dmp_url`` is set."""
    from dcc.transmissions.packaging import default_packager

    config = config or TransmissionConfig.from_environment()
    packager = packager or default_packager()
    mss_channel = MssChannel(config, packager)
    channels: dict[str, Channel] = {name: mss_channel for name in routing.MSS_CHANNELS}
    if config.dmp_url:
        from dcc.transmissions.dmp import DmpChannel

        channels[routing.DMP] = DmpChannel(config, packager, token=dmp_token)
    return Worker(session_factory, channels, config, **kwargs)


def main(argv: list[str] | None = None) -> int:
    from dcc.db import make_engine, make_session_factory

    parser = argparse.ArgumentParser(description="Deliver the DCC's transmission outbox (MSSanté, DMP).")
    parser.add_argument("--once", action="store_true", help="handle what is due, then exit")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    worker = build_worker(make_session_factory(make_engine(args.database_url)))
    stopping = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
    if args.once:
        while worker.run_once():
            pass
        return 0
    log.info("worker %s delivering (poll %.1f s)", worker.owner, args.poll)
    try:
        worker.run(args.poll, stop=lambda: stopping["now"])
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
