"""Load on the simulators (issue 6): requests per second and p99 latency with 50 concurrent clients on loopback.

Bounded: each run sends a fixed number of requests (``REQUESTS``) spread over ``CLIENTS`` client threads, each with
its own connection; three runs, medians reported. MSS: one SMTP transaction (MAIL, RCPT, DATA) of a mail carrying
an IHE_XDM.zip, the full receive path (XDM parse, CDA read, evidence, DSN into the outbox). DMP: one ITI-41
Provide & Register through the DMP simulator's own request builder when the simulator offers one; otherwise the
section says it was not measured. Annuaire: one FHIR search by RPPS.
"""

from __future__ import annotations

import smtplib
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

import httpx

from benchmarks.report import write_section

CLIENTS = 50
REQUESTS = 1_000
RUNS = 3
CDA = (
    b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
    b'<id root="1.2.250.1.999.1" extension="DOC-1"/><code code="34794-8"/><setId root="1.2.250.1.999.2"/>'
    b'<versionNumber value="1"/><recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" '
    b'extension="279035121518989"/></patientRole></recordTarget></ClinicalDocument>'
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load(
    make_client: Callable[[], Any], request: Callable[[Any], None], close: Callable[[Any], None]
) -> tuple[float, float, int]:
    """(requests/s, p99 latency in ms, errors) of REQUESTS requests from CLIENTS threads."""
    per_client = REQUESTS // CLIENTS
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def worker() -> None:
        client = make_client()
        mine: list[float] = []
        failed = 0
        barrier.wait()
        for _ in range(per_client):
            start = time.perf_counter()
            try:
                request(client)
            except Exception:
                failed += 1
            mine.append(time.perf_counter() - start)
        close(client)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, percentile(latencies, 0.99) * 1000, errors[0]


def mss_mail() -> bytes:
    from harness.simulators.xdm import XdmInput, build_xdm

    message = EmailMessage()
    message["From"] = "bal@dcc-region.mssante.fr"
    message["To"] = "claire.martin@hopital-simule.mssante.fr"
    message["Subject"] = "XDM/1.0/DDM+Fiche RCP DUPONT Marie 15/03/1979"
    message["X-MSS-INS"] = "279035121518989"
    message.set_content("FRCP")
    message.add_attachment(
        build_xdm([XdmInput(CDA)]), maintype="application", subtype="zip", filename="IHE_XDM.zip"
    )
    return message.as_bytes(policy=SMTP_POLICY)


def bench_mss(evidence: Any) -> tuple[float, float, int]:
    from harness.simulators.faults import FaultPlan
    from harness.simulators.mss.server import MssSimulator

    raw = mss_mail()
    with MssSimulator(evidence=evidence, faults=FaultPlan()) as sim:

        def connect() -> smtplib.SMTP:
            return smtplib.SMTP(sim.host, sim.port, timeout=60)

        def send(client: smtplib.SMTP) -> None:
            client.sendmail("bal@dcc-region.mssante.fr", ["claire.martin@hopital-simule.mssante.fr"], raw)

        result = load(connect, send, lambda c: c.quit())
        sim.outbox.clear()
        return result


def bench_annuaire(evidence: Any) -> tuple[float, float, int]:
    from harness.simulators.annuaire.server import AnnuaireSimulator
    from harness.simulators.faults import FaultPlan

    with AnnuaireSimulator(evidence=evidence, faults=FaultPlan()) as sim:
        url = sim.base_url + "/fhir/v2/Practitioner"

        def search(client: httpx.Client) -> None:
            client.get(
                url, params={"identifier": "https://rpps.esante.gouv.fr|10000000001"}
            ).raise_for_status()

        return load(
            lambda: httpx.Client(headers={"ESANTE-API-KEY": "bench"}, timeout=60), search, lambda c: c.close()
        )


def bench_dmp(evidence: Any) -> tuple[float, float, int] | str:
    """The DMP simulator belongs to another part; it is measured through its own request builder if present."""
    try:
        from harness.simulators.dmp import server as dmp_server
    except ModuleNotFoundError:
        return "not measured: the DMP simulator is not in this tree yet"
    builder = getattr(dmp_server, "example_provide_and_register", None)
    cls = next(
        (
            v
            for v in vars(dmp_server).values()
            if isinstance(v, type) and v.__name__.startswith("Dmp") and v.__module__ == dmp_server.__name__
        ),
        None,
    )
    if builder is None or cls is None:
        return "not measured: the DMP simulator offers no request builder (example_provide_and_register)"
    from harness.simulators.faults import FaultPlan

    with cls(evidence=evidence, faults=FaultPlan()) as sim:
        request = builder(sim)  # (url, headers, body)

        def post(client: httpx.Client) -> None:
            client.post(request[0], headers=request[1], content=request[2]).raise_for_status()

        return load(lambda: httpx.Client(timeout=60), post, lambda c: c.close())


def main() -> None:
    from harness.simulators.evidence import EvidenceStore

    rows: dict[str, list[tuple[float, float, int]]] = {"MSS (SMTP + XDM)": [], "Annuaire (FHIR search)": []}
    dmp_rows: list[tuple[float, float, int]] = []
    dmp_note = ""
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            evidence = EvidenceStore(Path(tmp) / "bundle")
            rows["MSS (SMTP + XDM)"].append(bench_mss(evidence))
            rows["Annuaire (FHIR search)"].append(bench_annuaire(evidence))
            dmp = bench_dmp(evidence)
            if isinstance(dmp, str):
                dmp_note = dmp
            else:
                dmp_rows.append(dmp)
    if dmp_rows:
        rows["DMP (ITI-41)"] = dmp_rows
    lines = [
        f"{CLIENTS} concurrent clients (threads, one connection each), {REQUESTS} requests per run, loopback, "
        f"{RUNS} runs; medians.",
        "",
        "| simulator | requests/s | p99 latency (ms) | errors |",
        "|---|---:|---:|---:|",
    ]
    for name, runs in rows.items():
        rps = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        lines.append(f"| {name} | {rps:.0f} | {p99:.1f} | {sum(r[2] for r in runs)} |")
    if dmp_note:
        lines += ["", f"DMP: {dmp_note}."]
    write_section("simulators_load", "\n".join(lines))


if __name__ == "__main__":
    main()
