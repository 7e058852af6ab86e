"""A generator of realistic regional activity for the dashboard: patients, FRCP and PPS (with new versions),
received documents, transmissions on every channel and their attempts, with failures and retries, qualified and
non-qualified identities — written straight into the DCC's tables in bulk.

Why straight into the tables and not through the services: the recette scenario of TBB.01 asks for two years of
documents, the benchmark for ten million attempts; the services (audit chain, events, one flush per row) would take
hours for what the dashboard only reads. Rows are built month by month with numpy (bounded memory), inserted with
one ``executemany`` per table on SQLite and ``COPY`` on PostgreSQL, and the function returns what it wrote, counted
as it wrote it — the figures the harness announces in ``harness.activity_generated``.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from dcc import identifiers
from dcc.db.models import DccEvent, Document, Patient, Transmission, TransmissionAttempt
from dcc.tbb.periods import Month

STATUSES = np.array(["qualifiee", "validee", "recuperee", "provisoire"])
ERRORS = {
    "dmp": "XDSRegistryError: patient inconnu du DMP",
    "pdc": "SMTP 451 4.3.0 boîte PDC indisponible",
    "mss_pro": "SMTP 550 5.1.1 destinataire inconnu",
    "mss_citoyenne": "SMTP 550 5.7.1 messagerie citoyenne fermée",
    "peer_dcc": "HTTP 503 DCC pair indisponible",
    "dpi": "HTTP 500 DPI",
}
FORMATS = {
    "dmp": "cda_n3",
    "pdc": "cda_n3",
    "mss_pro": "cda_n3_pdf",
    "mss_citoyenne": "cda_n1",
    "peer_dcc": "cda_n3",
    "dpi": "cda_n3",
}


@dataclass(frozen=True)
class ChannelProfile:
    """How often a document goes out on a channel, to how many recipients, and how often an attempt fails."""

    share: float  # probability that a document version is sent on the channel
    recipients: int = 1  # up to this many recipients (uniformly 1..recipients)
    failure: float = 0.03  # probability that one attempt fails
    qualified_only: bool = False  # only for patients whose identity is qualifiée (DMP, Mon espace santé)


DEFAULT_CHANNELS: dict[str, ChannelProfile] = {
    "dmp": ChannelProfile(0.95, 1, 0.04, qualified_only=True),
    "pdc": ChannelProfile(0.9, 1, 0.02),
    "mss_pro": ChannelProfile(1.0, 3, 0.03),
    "mss_citoyenne": ChannelProfile(0.5, 1, 0.06, qualified_only=True),
    "peer_dcc": ChannelProfile(0.03, 1, 0.05),
}


@dataclass
class ActivitySpec:
    first: Month  # first month of activity
    months: int = 24
    finess: tuple[str, ...] = ("750000001", "690000002", "130000003")
    rpps_per_finess: int = 4
    documents_per_month: int = (
        10  # new FRCP per FINESS and month (the scenario's "10 documents fictifs par mois")
    )
    vary: bool = False  # Poisson counts around documents_per_month instead of exactly that many
    pps_share: float = 0.5  # FRCP that get a PPS in the same month
    new_version_share: float = 0.1  # documents that get a version 2
    received_share: float = 0.05  # FRCP received from a peer DCC or a DPI rather than created here
    qualified_share: float = 0.7
    channels: dict[str, ChannelProfile] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    max_attempts: int = 3
    failures_per_channel: int | None = (
        None  # exactly this many failed attempts per channel (then a retry succeeds)
    )
    seed: int = 2026


@dataclass
class GeneratedActivity:
    """What was written, counted while writing (not read back): the recette compares the dashboard with it."""

    patients: int = 0
    documents: int = 0  # first versions (FRCP + PPS)
    versions: int = 0  # later versions
    received: int = 0
    transmissions: int = 0
    attempts: int = 0
    failures: int = 0
    attempts_ins_qualified: int = 0
    by_channel: Counter = field(default_factory=Counter)  # attempts per channel
    failures_by_channel: Counter = field(default_factory=Counter)
    documents_by_finess: Counter = field(default_factory=Counter)

    def event_fields(self) -> dict[str, int]:
        """The fields of ``harness.activity_generated`` (docs/trace-events.md)."""
        return {"attempts": self.attempts, "documents": self.documents, "failures": self.failures}


def rpps_of(finess: str, count: int) -> list[str]:
    """Fictitious 11-digit RPPS numbers, stable per FINESS (the 8 prefix is outside the real ranges' use here)."""
    return [f"8{finess[-6:]}{i:04d}" for i in range(1, count + 1)]


def generate(source: Session | Connection, spec: ActivitySpec, first_id: int = 1) -> GeneratedActivity:
    """Writes ``spec``'s activity in the caller's transaction and returns its counts.

    ``first_id``: the lowest primary key to use in every table, so that activity generated into another database at
    the same time (one process per range of months) can be copied into this one without a clash of ids."""
    connection = source.connection() if isinstance(source, Session) else source
    rng = np.random.default_rng(spec.seed)
    ids = _Ids(connection, first_id)
    summary = GeneratedActivity()
    forced = dict.fromkeys(spec.channels, spec.failures_per_channel or 0)
    for index in range(spec.months):
        _month(connection, spec, spec.first.plus(index), rng, ids, summary, forced)
    _reset_sequences(connection)
    return summary


class _Ids:
    """Next free primary key per table (rows are inserted with explicit ids so children can point at parents)."""

    def __init__(self, connection: Connection, first_id: int = 1) -> None:
        self.next = {
            model.__tablename__: max(
                first_id, (connection.execute(select(func.max(model.id))).scalar() or 0) + 1
            )
            for model in (Patient, Document, Transmission, TransmissionAttempt, DccEvent)
        }

    def take(self, table: str, count: int) -> np.ndarray:
        first = self.next[table]
        self.next[table] = first + count
        return np.arange(first, first + count, dtype=np.int64)


def _timestamps(base: np.ndarray) -> np.ndarray:
    """``datetime64[us]`` (UTC) as the text both databases take (SQLite's SQLAlchemy format; PostgreSQL adds +00)."""
    return np.char.replace(np.datetime_as_string(base, unit="us"), "T", " ")


def _month(
    connection, spec: ActivitySpec, month: Month, rng, ids: _Ids, summary: GeneratedActivity, forced
) -> None:
    start = np.datetime64(f"{month}-01T00:00:00", "us")
    finess = np.array(spec.finess)
    per = (
        rng.poisson(spec.documents_per_month, len(finess))
        if spec.vary
        else np.full(len(finess), spec.documents_per_month)
    )
    frcp_finess = np.repeat(finess, per)
    n = len(frcp_finess)
    if n == 0:
        return
    rpps_table = np.array([rpps_of(f, spec.rpps_per_finess) for f in spec.finess])
    frcp_rpps = rpps_table[np.repeat(np.arange(len(finess)), per), rng.integers(0, spec.rpps_per_finess, n)]
    # Created between day 1 and day 25, 08:00-18:00, so PPS, versions and attempts stay in the month.
    offsets = (
        rng.integers(0, 25, n) * 86_400_000_000
        + rng.integers(8 * 3600, 18 * 3600, n) * 1_000_000
        + rng.integers(0, 1_000_000, n)
    ).astype("timedelta64[us]")
    frcp_at = start + offsets

    # Patients: one per FRCP.
    patient_ids = ids.take("patient", n)
    draw = rng.random(n)
    rest = (1 - spec.qualified_share) / 3
    status = STATUSES[
        np.searchsorted(np.cumsum([spec.qualified_share, rest, rest]), draw, side="right").clip(0, 3)
    ]
    qualified = status == "qualifiee"
    # A well-formed INS matricule: a NIR layout (woman born 01/1960 in Paris, commune and order from the id),
    # 13 characters, then its key 97 - (NIR mod 97).
    nir = 2_600_175 * 10**6 + patient_ids % 10**6
    matricule = np.where(
        qualified, np.char.add(nir.astype(str), np.char.zfill((97 - nir % 97).astype(str), 2)), None
    )
    _insert(
        connection,
        "patient",
        {
            "id": patient_ids,
            "nom_naissance": np.full(n, "TBB"),
            "prenoms": np.full(n, "PATIENT"),
            "sexe": np.where(rng.random(n) < 0.5, "F", "M"),
            "date_naissance": np.full(n, "1960-01-01"),
            "ins_matricule": matricule,
            "ins_oid": np.where(qualified, "1.2.250.1.213.1.4.8", None),
            "identity_status": status,
            "mode": np.full(n, "saisie"),
            "created_at": _timestamps(frcp_at),
        },
    )
    summary.patients += n

    # Documents: FRCP, PPS for some, version 2 for some of both.
    frcp_ids = ids.take("document", n)
    has_pps = rng.random(n) < spec.pps_share
    pps_ids = ids.take("document", int(has_pps.sum()))
    pps_at = frcp_at[has_pps] + np.timedelta64(2, "D")
    doc_id = np.concatenate([frcp_ids, pps_ids])
    kind = np.concatenate([np.full(n, "FRCP"), np.full(len(pps_ids), "PPS")])
    patient = np.concatenate([patient_ids, patient_ids[has_pps]])
    doc_finess = np.concatenate([frcp_finess, frcp_finess[has_pps]])
    doc_rpps = np.concatenate([frcp_rpps, frcp_rpps[has_pps]])
    doc_at = np.concatenate([frcp_at, pps_at])
    frcp_of = np.concatenate([np.full(n, None, dtype=object), frcp_ids[has_pps].astype(object)])
    doc_qualified = np.concatenate([qualified, qualified[has_pps]])
    set_ids = np.array(
        [f"urn:uuid:{uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | int(i))}" for i in doc_id]
    )
    v2 = rng.random(len(doc_id)) < spec.new_version_share
    v2_ids = ids.take("document", int(v2.sum()))
    all_id = np.concatenate([doc_id, v2_ids])
    all_kind = np.concatenate([kind, kind[v2]])
    all_patient = np.concatenate([patient, patient[v2]])
    all_finess = np.concatenate([doc_finess, doc_finess[v2]])
    all_rpps = np.concatenate([doc_rpps, doc_rpps[v2]])
    all_at = np.concatenate([doc_at, doc_at[v2] + np.timedelta64(1, "D")])
    all_qualified = np.concatenate([doc_qualified, doc_qualified[v2]])
    m = len(all_id)
    _insert(
        connection,
        "document",
        {
            "id": all_id,
            "kind": all_kind,
            "patient_id": all_patient,
            "set_id": np.concatenate([set_ids, set_ids[v2]]),
            "version": np.concatenate([np.ones(len(doc_id), dtype=np.int64), np.full(len(v2_ids), 2)]),
            "status": np.full(m, "valide"),
            "frcp_id": np.concatenate([frcp_of, frcp_of[v2]]),
            "replaces_id": np.concatenate(
                [np.full(len(doc_id), None, dtype=object), doc_id[v2].astype(object)]
            ),
            "content": np.full(m, "{}"),
            "rgpd_text_1": np.full(m, "Texte RGPD 1 (activité générée)"),
            "created_at": _timestamps(all_at),
            "created_by": np.full(m, "tbb.generate"),
            "finess": all_finess,
            "author_rpps": all_rpps,
        },
    )
    summary.documents += len(doc_id)
    summary.versions += len(v2_ids)
    for f, c in Counter(doc_finess.tolist()).items():
        summary.documents_by_finess[f] += c

    # Received documents: a journal event each (what the ECH area writes when a peer's FRCP arrives).
    received = np.flatnonzero(rng.random(n) < spec.received_share)
    if len(received):
        root = identifiers.document_root()
        channel = np.where(rng.random(len(received)) < 0.7, "peer_dcc", "dpi")
        data = [
            json.dumps(
                {
                    "channel": c,
                    "document_id": f"{root}^{d}",
                    "kind": "FRCP",
                    "set_id": s.removeprefix("urn:uuid:"),
                    "version": 1,
                }
            )
            for c, d, s in zip(channel, frcp_ids[received], set_ids[received], strict=True)
        ]
        _insert(
            connection,
            "dcc_event",
            {
                "id": ids.take("dcc_event", len(received)),
                "at": _timestamps(frcp_at[received]),
                "type": np.full(len(received), "document.received"),
                "data": np.array(data, dtype=object),
            },
        )
        summary.received += len(received)

    # Transmissions: per document version and channel, 1..k recipients.
    parts = []
    for name, profile in spec.channels.items():
        sent = rng.random(m) < profile.share
        if profile.qualified_only:
            sent &= all_qualified
        rows = np.flatnonzero(sent)
        count = (
            rng.integers(1, profile.recipients + 1, len(rows))
            if profile.recipients > 1
            else np.ones(len(rows), dtype=np.int64)
        )
        rows = np.repeat(rows, count)
        recipient_index = _ranks(count)
        parts.append((name, profile, rows, recipient_index))
    t_rows = np.concatenate([p[2] for p in parts])
    if len(t_rows) == 0:
        return
    t_channel = np.concatenate([np.full(len(p[2]), p[0]) for p in parts])
    t_recipient_index = np.concatenate([p[3] for p in parts])
    t_failure = np.concatenate([np.full(len(p[2]), p[1].failure) for p in parts])
    k = len(t_rows)
    t_ids = ids.take("transmission", k)
    t_created = all_at[t_rows] + np.timedelta64(5, "m")

    # Attempts: each fails with the channel's probability, until one succeeds or max_attempts.
    fails = rng.random((k, spec.max_attempts)) < t_failure[:, None]
    if spec.failures_per_channel is not None:
        fails[:] = False
        for name in spec.channels:
            candidates = np.flatnonzero(t_channel == name)[: forced[name]]
            fails[candidates, 0] = True
            forced[name] -= len(candidates)
    succeeded = ~fails
    first_success = np.where(succeeded.any(axis=1), succeeded.argmax(axis=1), spec.max_attempts - 1)
    n_attempts = first_success + 1
    delivered = succeeded.any(axis=1)
    state = np.where(delivered, "sent", "failed")
    recipient = np.char.add(
        np.char.add(t_channel, "-"),
        np.char.add(all_finess[t_rows], np.char.add("-", t_recipient_index.astype(str))),
    )
    key = np.char.add(
        np.char.add(all_id[t_rows].astype(str), "|"), np.char.add(np.char.add(t_channel, "|"), recipient)
    )
    last = t_created + (n_attempts * 10).astype("timedelta64[m]")
    _insert(
        connection,
        "transmission",
        {
            "id": t_ids,
            "key": key,
            "document_id": all_id[t_rows],
            "channel": t_channel,
            "recipient": recipient,
            "format": _labels(t_channel, FORMATS, "cda_n3"),
            "trigger": np.full(k, "validation"),
            "state": state,
            "attempts": n_attempts,
            "next_attempt_at": _timestamps(last),
            "external_id": np.where(
                delivered, np.char.add("<tbb-", np.char.add(t_ids.astype(str), "@dcc>")), None
            ),
            "last_error": np.where(delivered, None, _labels(t_channel, ERRORS, "erreur")),
            "finess": all_finess[t_rows],
            "rpps": all_rpps[t_rows],
            "created_at": _timestamps(t_created),
            "delivered_at": np.where(delivered, _timestamps(last), None),
        },
    )
    summary.transmissions += k

    a_t = np.repeat(np.arange(k), n_attempts)
    a_number = _ranks(n_attempts) + 1
    a_failed = fails[a_t, a_number - 1]
    a_qualified = all_qualified[t_rows][a_t]
    a_channel = t_channel[a_t]
    total = len(a_t)
    a_at = _timestamps(t_created[a_t] + (a_number * 10).astype("timedelta64[m]"))
    a_rows = t_rows[a_t]
    _insert(
        connection,
        "transmission_attempt",
        {
            "id": ids.take("transmission_attempt", total),
            "transmission_id": t_ids[a_t],
            "attempt": a_number,
            "at": a_at,
            "result": np.where(a_failed, "failure", "success"),
            "error": np.where(a_failed, _labels(a_channel, ERRORS, "erreur"), None),
            "ins_qualified": a_qualified,
            # the dashboard's dimensions, as the transmission worker copies them (UTC month: the first 7
            # characters of the UTC timestamp)
            "month": a_at.astype("U7"),
            "channel": a_channel,
            "kind": all_kind[a_rows],
            "finess": all_finess[a_rows],
            "rpps": all_rpps[a_rows],
        },
    )
    summary.attempts += total
    summary.failures += int(a_failed.sum())
    summary.attempts_ins_qualified += int(a_qualified.sum())
    summary.by_channel.update(Counter(a_channel.tolist()))
    summary.failures_by_channel.update(Counter(a_channel[a_failed].tolist()))


def _ranks(counts: np.ndarray) -> np.ndarray:
    """``0..c-1`` for each ``c`` of ``counts``, concatenated (vectorised: no Python loop over millions of rows)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def _labels(keys: np.ndarray, mapping: dict[str, str], default: str) -> np.ndarray:
    return pd.Series(keys).map(mapping).fillna(default).to_numpy(dtype=object)


def _insert(connection: Connection, table: str, columns: dict[str, np.ndarray]) -> None:
    """One bulk insert: ``executemany`` on SQLite, ``COPY … FROM STDIN`` (CSV) on PostgreSQL."""
    names = list(columns)
    if connection.dialect.name == "postgresql":
        frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
        for name in names:
            if name in ("created_at", "at", "next_attempt_at", "delivered_at"):
                frame[name] = frame[name].map(lambda v: None if v is None else f"{v}+00")
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, na_rep="")
        buffer.seek(0)
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)", buffer)
        return
    # Column by column to Python lists (numpy's ``tolist`` gives str, int, bool and keeps None), then zipped into
    # rows: several times faster than going through an object frame, over millions of rows.
    rows = list(zip(*(np.asarray(values).tolist() for values in columns.values()), strict=True))
    placeholders = ", ".join("?" for _ in names)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", rows)
    finally:
        cursor.close()


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL: move each serial past the explicit ids, so the services' next insert does not collide."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("patient", "document", "transmission", "transmission_attempt", "dcc_event"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        )


def default_spec(reference: datetime | None = None, **overrides) -> ActivitySpec:
    """Two years ending with the reference month: the previous year and the current year up to that month, which
    is exactly what a dashboard produced in that month covers (``dcc.tbb.periods.windows``)."""
    current = Month.of(reference or datetime.now(UTC))
    first = Month(current.year - 1, 1)
    months = 12 + current.month
    return ActivitySpec(first=first, months=months, **overrides)
