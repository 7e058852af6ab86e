"""Bulk load of the reference DCC through its service layer (issue 4): 100,000 patients, then 300,000 documents,
on SQLite and on PostgreSQL, each in a throwaway database.

Why through the services and not bulk inserts: a region migrating its history, or the recette replaying a year of
activity, goes through the same code as a user — identity history, hash-chained audit, event journal, reuse
proposals — so that is what is measured. Per patient: a first FRCP (offered nothing), completed and validated, a
PPS from it (offered the FRCP), then a second FRCP (offered the PPS and the first FRCP): 3 documents, 2 status
changes, 3 prefill proposals. Work is committed per batch of patients, as an import job would; the figures are the
median throughput of the batches, and the whole run's.

Size: ``DCC_BULK_PATIENTS`` (default 100,000) or ``--patients``; a smoke run is ``--patients 2000``. Backends:
``DCC_BULK_BACKENDS`` / ``--backends`` (``sqlite,postgresql``); PostgreSQL server: ``DCC_BULK_PG_URL`` (default
``postgresql+psycopg2://postgres@127.0.0.1:5432/test``; a database is created next to it and dropped after).
``--budget SECONDS`` bounds a run on a shared machine: patients stop being created after a quarter of it, documents
after all of it (only whole batches), and the section says so with the full size's projected time at the run's
rates. A full-size run writes its section of docs/benchmarks.md, a smaller or stopped one only with ``--record``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select

from benchmarks.databases import throwaway
from benchmarks.report import write_section
from dcc.db import make_engine, make_session_factory, migrate
from dcc.db.models import AuditEntry, DccEvent, Document, Patient
from dcc.services import reuse
from dcc.services.documents import COMPLETE, VALIDE, set_status
from dcc.services.patients import Traits, create_patient

FULL_PATIENTS = 100_000
DOCUMENTS_PER_PATIENT = 3
BATCH = 100


@dataclass
class Result:
    backend: str
    patients: int
    documents: int = 0
    patient_rates: list[float] = field(default_factory=list)  # patients/s of each batch
    document_rates: list[float] = field(default_factory=list)  # documents/s of each batch
    patient_seconds: float = 0.0
    document_seconds: float = 0.0
    audit_entries: int = 0
    events: int = 0
    load: float = 0.0  # the machine's 1-minute load average when the run started
    budget: float | None = None  # seconds the run was allowed, if bounded

    @property
    def complete(self) -> bool:
        return self.patients >= FULL_PATIENTS and self.documents >= self.patients * DOCUMENTS_PER_PATIENT

    def projected_seconds(self) -> float:
        """The full size's time at this run's whole rates (they stay flat as tables grow: every read is by index)."""
        return FULL_PATIENTS * self.patient_seconds / self.patients + (
            FULL_PATIENTS * DOCUMENTS_PER_PATIENT * self.document_seconds / max(self.documents, 1)
        )


def _traits(index: int) -> Traits:
    return Traits(
        f"Bulk{index:06d}",
        ("Camille",),
        "F" if index % 2 else "M",
        f"19{40 + index % 60:02d}-0{1 + index % 9}-1{index % 10}",
    )


def _progress(backend: str, what: str, done: int, total: int, rates: list[float]) -> None:
    if len(rates) % 50 == 0 or done == total:
        print(f"  {backend}: {done:,}/{total:,} {what}, median {statistics.median(rates):,.0f}/s", flush=True)


def run(backend: str, patients: int, batch: int = BATCH, budget: float | None = None) -> Result:
    result = Result(backend, patients, load=os.getloadavg()[0], budget=budget)
    with throwaway(backend, "dcc_bulk") as url:
        migrate(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        ids: list[int] = []
        start = began_run = time.perf_counter()  # the budget counts from here (migrating is not measured)
        for first in range(0, patients, batch):
            if budget is not None and time.perf_counter() - began_run > budget / 4:
                break
            size = min(batch, patients - first)
            began = time.perf_counter()
            with factory() as session:
                made = [create_patient(session, _traits(first + i), author="bulk") for i in range(size)]
                session.commit()
                ids.extend(p.id for p in made)
            result.patient_rates.append(size / (time.perf_counter() - began))
            _progress(backend, "patients", first + size, patients, result.patient_rates)
        result.patient_seconds = time.perf_counter() - start
        result.patients = len(ids)

        start = time.perf_counter()
        for first in range(0, len(ids), batch):
            if budget is not None and time.perf_counter() - began_run > budget:
                break
            chunk = ids[first : first + batch]
            began = time.perf_counter()
            with factory() as session:
                for patient_id in chunk:
                    patient = session.get(Patient, patient_id)
                    frcp = reuse.new_frcp(
                        session, patient, "bulk", {"motif": "RCP", "antecedents": "HTA"}
                    ).document
                    set_status(session, frcp, COMPLETE, "bulk")
                    set_status(session, frcp, VALIDE, "bulk")
                    reuse.new_pps(session, frcp, "bulk", {"traitements": "chirurgie"})
                    reuse.new_frcp(session, patient, "bulk")
                session.commit()
            made = len(chunk) * DOCUMENTS_PER_PATIENT
            result.documents += made
            result.document_rates.append(made / (time.perf_counter() - began))
            _progress(
                backend,
                "documents",
                result.documents,
                len(ids) * DOCUMENTS_PER_PATIENT,
                result.document_rates,
            )
        result.document_seconds = time.perf_counter() - start

        with factory() as session:
            stored = session.scalar(select(func.count()).select_from(Document))
            assert stored == result.documents, (stored, result.documents)
            result.audit_entries = session.scalar(select(func.count()).select_from(AuditEntry))
            result.events = session.scalar(select(func.count()).select_from(DccEvent))
        engine.dispose()
    return result


def _row(r: Result) -> str:
    return (
        f"| {r.backend} | {r.patients:,} | {statistics.median(r.patient_rates):,.0f} "
        f"| {r.patients / r.patient_seconds:,.0f} | {r.documents:,} | {statistics.median(r.document_rates):,.0f} "
        f"| {r.documents / r.document_seconds:,.0f} | {r.patient_seconds + r.document_seconds:,.0f} s "
        f"| {r.audit_entries:,} | {r.events:,} | {r.load:.1f} |"
    )


def _size_note(r: Result) -> str:
    if r.complete:
        return ""
    full = r.projected_seconds()
    bounded = f"stopped by its time budget of {r.budget:,.0f} s; " if r.budget is not None else ""
    return (
        f"**Not full size**: {r.patients:,} patients and {r.documents:,} documents ({bounded}the full size is "
        f"{FULL_PATIENTS:,} patients and {FULL_PATIENTS * DOCUMENTS_PER_PATIENT:,} documents). At this run's "
        f"whole rates the full size would take about {full / 3600:.1f} h on this machine under the same load.\n\n"
    )


def section(r: Result) -> str:
    return f"""
Through the service layer (`dcc.services.patients`, `dcc.services.reuse`, `dcc.services.documents`), in a
throwaway {r.backend} database, committed per batch of {BATCH:,} patients. Per patient: FRCP (completed,
validated), a PPS from it, a second FRCP offered the PPS and the first FRCP — {DOCUMENTS_PER_PATIENT} documents,
with their audit entries, events and prefill proposals. Rates are per second; « median » is the median of the
{len(r.patient_rates)} (patients) and {len(r.document_rates)} (documents) batches.

{_size_note(r)}| backend | patients | patients/s (median) | patients/s (whole) | documents | documents/s (median) | documents/s (whole) | total | audit entries | events | load at start |
|---|---|---|---|---|---|---|---|---|---|---|
{_row(r)}
"""


def main(
    patients: int | None = None,
    backends: list[str] | None = None,
    budget: float | None = None,
    record: bool = False,
) -> list[Result]:
    """One section of docs/benchmarks.md per backend (``dcc_bulk (sqlite)``…), so backends may run apart."""
    # a stopped run (SIGTERM) still drops its throwaway database: exit through the ``finally`` of ``throwaway``
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    patients = patients or int(os.environ.get("DCC_BULK_PATIENTS", FULL_PATIENTS))
    backends = backends or os.environ.get("DCC_BULK_BACKENDS", "sqlite,postgresql").split(",")
    results = []
    for backend in backends:
        print(f"dcc_bulk: {backend}, {patients:,} patients", flush=True)
        results.append(run(backend.strip(), patients, budget=budget))
        if results[-1].complete or record:
            write_section(f"dcc_bulk ({results[-1].backend})", section(results[-1]))
        else:
            print(section(results[-1]), flush=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--backends", default=None, help="comma-separated: sqlite,postgresql")
    parser.add_argument("--budget", type=float, default=None, help="seconds: stop (whole batches) when spent")
    parser.add_argument("--record", action="store_true", help="write the section even when not full size")
    arguments = parser.parse_args()
    main(
        arguments.patients,
        arguments.backends.split(",") if arguments.backends else None,
        arguments.budget,
        arguments.record,
    )
