"""Outbox delivery (issue 7): validated documents delivered per second through the outbox to the simulators, and
the delivery latency, on SQLite and on PostgreSQL, each in a throwaway database.

What runs, all on loopback: the MSSanté and DMP simulators (``harness.simulators.stack``), the DCC's inbound SMTP
(``dcc.transmissions.inbound``: the simulator's DSN and MDN are recorded in the database, as in production), and
``--workers`` outbox workers as their own processes (``python -m dcc.transmissions.worker``, the production entry
point). Setup, not timed: ``--patients`` patients with a qualified INS, each with an FRCP « complétée » for one
professional. Timed: for each patient the FRCP is validated (``validate_and_route``, one commit), then its PPS is
created, completed and validated (one commit) — as fast as this process goes, or paced —, while the workers
deliver. Figure
10 gives per patient: FRCP → professional, PDC, DMP (invisible); PPS → professional, PDC, DMP, patient (MSS
citoyenne); the PPS in the DMP makes the FRCP visible (one more DMP job, a replacement).

Measured, from what the DCC records (``transmission.created_at`` → ``delivered_at``): the window from the first
validation to the last delivery, validated documents and jobs per second over it, p50/p99 latency per job. Checked:
every job ``sent``, every Message-ID received once per recipient and every uniqueId registered once by the
simulators (no ``duplicate``), and nothing else received.

The CDA come from the ANS examples patched per document (``tests.dcc.transmissions_support:packager`` through
``DCC_PACKAGER``, as the transmission tests do): this measures the outbox, SMTP, XDS.b, the simulators and the
acknowledgements — not CDA production and PDF rendering (about a second per document, cached). ``--packager
module:callable`` names another factory; the CDA producer (``dcc.cda.packager:packager``) was not measured here.

Two runs per backend: *burst*, ``--patients`` patients (default 20, 160 jobs: about three minutes on the shared
2-core machine) validated as fast as possible — the throughput; *paced*, 5 patients one every 15 s — the latency
when the worker keeps up (``--no-paced`` skips it). Backends: ``--backends sqlite,postgresql``; PostgreSQL server
``DCC_BULK_PG_URL`` (default the test server). Only a run at the default size or more, one worker, one
professional, writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from benchmarks.databases import throwaway
from benchmarks.report import write_section
from dcc.db import make_engine, make_session_factory, migrate
from dcc.db.models import Document, Patient, Transmission
from dcc.identity.status import IdentityStatus
from dcc.services import documents, patients
from dcc.transmissions import outbox
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.inbound import InboundServer
from harness.simulators.stack import ENVIRONMENT, Stack

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATIENTS = 20
DEFAULT_PACKAGER = "tests.dcc.transmissions_support:packager"
SENDER = "dcc@dcc-region.mssante.fr"
INS_OID = "1.2.250.1.213.1.4.10"  # test INS (NIR de test)
PACED_PATIENTS = 5  # the paced run: few patients, one every PACE_S seconds, so the worker keeps up
PACE_S = 15.0
DRAIN_LIMIT_S = 900.0  # bounded: a run that cannot drain stops and says so


@dataclass
class Result:
    backend: str
    patients: int
    workers: int
    professionals: int
    load_1min: float
    pace_s: float = 0.0  # seconds between two patients' validations; 0: as fast as the process goes
    documents: int = 0
    jobs: Counter[str] = field(default_factory=Counter)
    validation_s: float = 0.0
    window_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    received_mss: int = 0
    received_dmp: int = 0
    problems: list[str] = field(default_factory=list)


def load_average() -> float:
    return os.getloadavg()[0]


def ins_matricule(index: int) -> str:
    """A NIR-shaped matricule with a correct key (97 − NIR mod 97), distinct per patient."""
    base = f"27903512{index:05d}"
    return f"{base}{97 - int(base) % 97:02d}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def setup(factory, count: int, professionals: list[str]) -> list[int]:
    """Qualified patients, each with an FRCP « complétée » addressed to ``professionals`` (not timed)."""
    content = {"destinataires": [{"mss": address, "source": "annuaire"} for address in professionals]}
    frcp_ids = []
    with factory() as session:
        for index in range(count):
            traits = patients.Traits(
                f"Outbox{index:05d}", ("Camille",), "F" if index % 2 else "M", "1979-03-28", "63220"
            )
            patient = patients.create_patient(
                session, traits, "bench", ins_matricule=ins_matricule(index), ins_oid=INS_OID
            )
            patients.change_status(
                session,
                patient,
                IdentityStatus.VALIDEE,
                "bench",
                "pièce d'identité",
                justificatif="carte_identite",
            )
            patients.change_status(session, patient, IdentityStatus.QUALIFIEE, "bench", "INSi")
            frcp = documents.create_frcp(session, patient, "bench", content=content)
            documents.set_status(session, frcp, documents.COMPLETE, "bench")
            session.flush()
            frcp_ids.append(frcp.id)
        session.commit()
    return frcp_ids


def start_workers(count: int, url: str, env: dict[str, str]) -> list[subprocess.Popen]:
    """Production workers; returns once each says it is delivering (their start-up is not in the window)."""
    workers = []
    for _ in range(count):
        process = subprocess.Popen(
            [sys.executable, "-m", "dcc.transmissions.worker", "--database-url", url, "--poll", "0.05"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        workers.append(process)
    for process in workers:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stderr.readline() if process.stderr else ""
            if "delivering" in line:
                break
            if not line and process.poll() is not None:
                raise RuntimeError(f"an outbox worker exited at start ({process.returncode})")
        else:
            raise RuntimeError("an outbox worker did not start within 120 s")
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def check(stack: Stack, jobs: list[Transmission], result: Result) -> None:
    """Exactly once: every job sent; each Message-ID received once by its recipient, each uniqueId registered
    once; nothing received that no job sent."""
    events = stack.evidence.events
    mails = Counter(
        (e.data.get("message_id"), e.data.get("to_address"))
        for e in events
        if e.type == "mss.message_received"
    )
    submissions = Counter(e.data.get("unique_id") for e in events if e.type == "dmp.provide_and_register")
    result.received_mss, result.received_dmp = sum(mails.values()), sum(submissions.values())
    expected_mails = Counter((j.external_id, j.recipient.lower()) for j in jobs if j.channel != "dmp")
    expected_dmp = Counter(j.external_id for j in jobs if j.channel == "dmp")
    states = Counter(j.state for j in jobs)
    if states != Counter({"sent": len(jobs)}):
        result.problems.append(f"job states {dict(states)}")
    if mails != expected_mails:
        result.problems.append(
            f"MSS: {len(mails)} distinct mails for {len(expected_mails)} jobs, "
            f"{sum(c - 1 for c in mails.values() if c > 1)} received twice"
        )
    if submissions != expected_dmp:
        result.problems.append(
            f"DMP: {len(submissions)} uniqueIds for {len(expected_dmp)} jobs, "
            f"{sum(c - 1 for c in submissions.values() if c > 1)} submitted twice"
        )
    if any(
        e.data.get("duplicate")
        for e in events
        if e.type in ("mss.message_received", "dmp.provide_and_register")
    ):
        result.problems.append("a simulator flagged a duplicate")
    if any(e.data.get("result") == "failure" for e in events if e.type == "dmp.provide_and_register"):
        result.problems.append("a DMP submission failed")


def run(
    backend: str,
    count: int,
    workers: int = 1,
    professionals: int = 1,
    packager: str = DEFAULT_PACKAGER,
    pace_s: float = 0.0,
) -> Result:
    result = Result(backend, count, workers, professionals, load_average(), pace_s)
    addresses = [f"pro{k}.bench@hopital.mssante.fr" for k in range(professionals)]
    with throwaway(backend, "dcc_outbox") as url, tempfile.TemporaryDirectory(prefix="outbox-bench-") as tmp:
        migrate(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        frcp_ids = setup(factory, count, addresses)
        with InboundServer(factory) as inbound:
            config = {
                "evidence_dir": str(Path(tmp) / "evidence"),
                "simulators": {
                    "mss": {"options": {"return_smtp": inbound.address}},
                    "dmp": {"options": {"patients": [{"ins": ins_matricule(i)} for i in range(count)]}},
                    **{name: {"enabled": False} for name in ("insi", "psc", "annuaire", "peer_dcc", "dpi")},
                },
            }
            stack = Stack(config, "127.0.0.1")
            stack.start()
            pool: list[subprocess.Popen] = []
            try:
                endpoints = stack.endpoints()
                env = {
                    **os.environ,
                    **{
                        ENVIRONMENT[k]: v
                        for k, v in endpoints.items()
                        if k in ("mss_smtp", "dmp", "dmp_token")
                    },
                    "PYTHONPATH": str(ROOT),
                    "DCC_PACKAGER": packager,
                    "DCC_MSS_SENDER": SENDER,
                }
                routing_config = TransmissionConfig(sender=SENDER, dmp_url=env["DCC_DMP_URL"])
                pool = start_workers(workers, url, env)
                print(
                    f"  {backend}: {len(pool)} worker(s) up, validating {count} FRCP + {count} PPS",
                    flush=True,
                )
                first = datetime.now(UTC)
                began = time.perf_counter()
                for index, frcp_id in enumerate(frcp_ids):
                    if pace_s:
                        time.sleep(max(0.0, began + index * pace_s - time.perf_counter()))
                    with factory() as session:
                        frcp = session.get(Document, frcp_id)
                        outbox.validate_and_route(session, frcp, "bench", routing_config)
                        session.commit()
                        pps = documents.create_pps(session, frcp, "bench", content=dict(frcp.content))
                        documents.set_status(session, pps, documents.COMPLETE, "bench")
                        outbox.validate_and_route(session, pps, "bench", routing_config)
                        session.commit()
                    result.documents += 2
                result.validation_s = time.perf_counter() - began
                print(f"  {backend}: validated in {result.validation_s:.1f} s, draining", flush=True)
                deadline = time.monotonic() + DRAIN_LIMIT_S
                while time.monotonic() < deadline:
                    with factory() as session:
                        pending = session.scalar(
                            select(Transmission.id).where(Transmission.state == "pending").limit(1)
                        )
                    if pending is None:
                        break
                    time.sleep(0.2)
                else:
                    result.problems.append(f"not drained within {DRAIN_LIMIT_S:.0f} s")
                time.sleep(1.0)  # the last acknowledgements reach the inbound SMTP
            finally:
                stop_workers(pool)
                with factory() as session:
                    jobs = list(session.scalars(select(Transmission)))
                    qualified = session.scalar(
                        select(Patient.id).where(Patient.identity_status != "qualifiee").limit(1)
                    )
                check(stack, jobs, result)
                stack.stop()
        engine.dispose()
    if qualified is not None:
        result.problems.append("a patient was not qualifiée")
    result.jobs = Counter(j.channel for j in jobs)
    delivered = [j for j in jobs if j.delivered_at is not None]
    result.latencies_ms = [
        (_aware(j.delivered_at) - _aware(j.created_at)).total_seconds() * 1000 for j in delivered
    ]
    if delivered:
        result.window_s = (max(_aware(j.delivered_at) for j in delivered) - first).total_seconds()
    return result


def _channels(r: Result) -> str:
    return ", ".join(f"{channel} {n:,}" for channel, n in sorted(r.jobs.items()))


def _row(r: Result) -> str:
    jobs = sum(r.jobs.values())
    mode = f"paced, {r.pace_s:g} s/patient" if r.pace_s else "burst"
    return (
        f"| {r.backend} | {mode} | {r.load_1min:.2f} | {r.documents:,} | {jobs:,} "
        f"| {r.documents / r.validation_s:,.2f} | {r.window_s:,.1f} s | {r.documents / r.window_s:,.2f} "
        f"| {jobs / r.window_s:,.2f} | {statistics.median(r.latencies_ms) / 1000:,.1f} s "
        f"| {percentile(r.latencies_ms, 0.99) / 1000:,.1f} s "
        f"| {r.received_mss:,} / {r.received_dmp:,} | {'; '.join(r.problems) or 'exactly once'} |"
    )


HEADER = (
    "| backend | run | load (1 min, at start) | validated documents | jobs | validations/s | window | documents/s "
    "| jobs/s | latency p50 | latency p99 | received MSS / DMP | check |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def section(results: list[Result]) -> str:
    burst = next(r for r in results if not r.pace_s)
    return (
        f"""
Per patient (qualified INS, {burst.professionals} professional per document) an FRCP then its PPS are validated
(`validate_and_route`, one commit each) while {burst.workers} outbox worker process (`python -m
dcc.transmissions.worker --poll 0.05`) delivers to the MSSanté and DMP simulators on loopback; the simulators'
DSN/MDN come back to the DCC's inbound SMTP and are recorded. Jobs per patient: FRCP → professional, PDC, DMP; PPS
→ professional, PDC, DMP, patient; the FRCP made visible in the DMP (a replacement) — {_channels(burst)} for
{burst.patients} patients. Packager: the ANS examples patched per document (no CDA production nor PDF
rendering). *Burst*: {burst.patients} patients validated as fast as the benchmark process goes — the throughput;
its latency is mostly the backlog. *Paced*: one patient every {PACE_S:g} s, {PACED_PATIENTS} patients — the latency
of a worker that keeps up. Window: first validation → last `delivered_at`; documents/s and jobs/s over it (in the paced run they are
the pace, not a capacity).
Latency: `transmission.created_at` → `delivered_at` of each job, from the DCC's database. Check: every job `sent`,
each Message-ID received once by its recipient and each uniqueId registered once by the simulators, nothing else.
The benchmark process also hosts the simulators and the inbound SMTP; the 2 cores are shared with other agents,
so the 1-minute load average at the start of each run is given. One run of each.

{HEADER}
"""
        + "\n".join(_row(x) for x in results)
        + """

Where the time goes (cProfile of one in-process worker over 10 MSS jobs, SQLite, load ≈ 8; 8.0 s): 4.3 s waiting
for the simulator's reply to DATA — it parses the XDM and the CDA and sends the DSN and the MDN to the DCC's inbound
SMTP, which records them, before it answers 250 —, 1.2 s serialising the mail (`as_bytes`), 1.0 s deflating the
IHE_XDM.zip, the rest building the mail and the database.
"""
    )


def main(
    patients_count: int | None = None,
    backends: list[str] | None = None,
    workers: int = 1,
    professionals: int = 1,
    packager: str = DEFAULT_PACKAGER,
    paced: bool = True,
) -> list[Result]:
    """Per backend a burst run (``patients_count``) and, with ``paced``, a paced run; one section for both."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # drop the throwaway database on the way out
    count = patients_count or DEFAULT_PATIENTS
    results = []
    for backend in backends or ["sqlite", "postgresql"]:
        runs = [(count, 0.0)] + ([(PACED_PATIENTS, PACE_S)] if paced else [])
        for patients_in_run, pace_s in runs:
            print(f"outbox_delivery: {backend}, {patients_in_run} patients, pace {pace_s:g} s", flush=True)
            results.append(run(backend.strip(), patients_in_run, workers, professionals, packager, pace_s))
            print(HEADER + "\n" + _row(results[-1]), flush=True)
    if count >= DEFAULT_PATIENTS and packager == DEFAULT_PACKAGER and workers == 1 and professionals == 1:
        write_section("outbox_delivery", section(results))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--backends", default=None, help="comma-separated: sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--professionals", type=int, default=1)
    parser.add_argument("--packager", default=DEFAULT_PACKAGER)
    parser.add_argument("--no-paced", action="store_true", help="the burst run only")
    arguments = parser.parse_args()
    main(
        arguments.patients,
        arguments.backends.split(",") if arguments.backends else None,
        arguments.workers,
        arguments.professionals,
        arguments.packager,
        not arguments.no_paced,
    )
