"""Data reuse (cahier des charges 2.1.2, 2.1.2.1–2.1.2.3): what a new FRCP or PPS is offered from the documents
already in the DCC, the user's choice of what to keep, and the two syntheses of the PPS.

Why a proposal and not a copy: the user keeps all, part or none of what is proposed (REPR.04: nothing reused is
written without the user), so creating a document stores a ``PrefillProposal`` and emits one
``document.prefill_proposed`` per source; only ``apply(selection)`` writes, field by field through
``documents.enter`` (each kept field traced with its operator, audited, journaled). Sources:

- new FRCP: the patient's latest validated PPS (cas 1), the previous validated FRCP (cas 1 bis) — a field offered
  by both comes from the PPS, the more recent — and the conclusion of the latest CR-GM received (cas 2);
- new PPS: its validated FRCP, and the patient's previous validated PPS;
- actualised PPS (a new version): the realised care of the previous version (2.1.2.3).

The syntheses (past treatments, supportive care) are never stored: ``build_syntheses`` rebuilds them at each
rendering from the care items of the PPS and of the patient's validated PPS, keeping only confirmed items whose
date is past.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, identifiers
from dcc.cda_input.crgm import parse_crgm
from dcc.db.models import Document, FieldEntry, Patient
from dcc.db.models_reuse import ExternalDocument, PrefillProposal
from dcc.services import documents
from dcc.services.documents import CLOTURE, VALIDE, DocumentRuleError

faults.register(
    "prefill_ignores_latest_pps",
    "a new FRCP is offered an older validated PPS than the patient's latest one (or none when there is no older)",
    # REPR.04's scenario needs a reuse to keep all, part or none of: with nothing offered it cannot run
    breaks=["REPR.01", "REPR.04"],
)
faults.register(
    "prefill_ignores_previous_frcp",
    "a new FRCP is not offered the previous validated FRCP",
    breaks=["REPR.02"],
)
faults.register(
    "crgm_conclusion_not_proposed",
    "the conclusion of the patient's CR-GM is not offered to a new FRCP",
    breaks=["REPR.03"],
)
faults.register(
    "pps_prefill_missing",
    "a new PPS is offered nothing from its FRCP or the previous PPS",
    breaks=["REPR.05"],
)
faults.register(
    "synthesis_includes_future_items",
    "the PPS syntheses also list planned (future or unconfirmed) care",
    breaks=["REPR.06"],
)
faults.register(
    "actualised_pps_drops_realised_care",
    "an actualised PPS is not offered the realised care of the previous version",
    breaks=["REPR.07"],
)

# Fields reused, as (source field, target field), in the order they are offered.
FRCP_FROM_PPS = (  # cas 1: current treatments and notable information of the latest PPS
    ("traitements", "traitements_actuels"),
    ("soins_prevus", "soins_prevus"),
    ("soins_realises", "soins_realises"),
    ("informations_notables", "informations_notables"),
)
FRCP_FROM_FRCP = (  # cas 1 bis: history, diagnosis and notable treatments of the previous FRCP
    ("antecedents", "antecedents"),
    ("diagnostic", "diagnostic"),
    ("traitements_notables", "traitements_notables"),
    ("traitements_actuels", "traitements_actuels"),
    ("informations_notables", "informations_notables"),
    ("conclusion_moleculaire", "conclusion_moleculaire"),
)
PPS_FROM_FRCP = (  # 2.1.2.2: the proposal of the RCP and what the PPS needs from its FRCP
    ("proposition_therapeutique", "proposition_therapeutique"),
    ("informations_notables", "informations_notables"),
    ("antecedents", "antecedents"),
)
PPS_FROM_PPS = (  # 2.1.2.2: the previous PPS of the patient (another set)
    ("soins_realises", "soins_realises"),
    ("soins_prevus", "soins_prevus"),
    ("informations_notables", "informations_notables"),
)
CRGM_FIELD = "conclusion_moleculaire"
CARE_FIELDS = ("soins_realises", "soins_prevus")
CATEGORIES = ("traitement", "soin_support")
PARIS = ZoneInfo("Europe/Paris")
ALL: Literal["all"] = "all"


class ReuseError(DocumentRuleError):
    """A refused reuse operation (same ``reason`` contract as the lifecycle's refusals)."""


@dataclass(frozen=True)
class ProposedField:
    field: str
    value: str
    from_kind: str  # FRCP, PPS, CR-GM
    from_document_id: str  # root^extension, as in the events
    from_source: (
        str  # dcc (a document of this DCC), previous_version, or where a CR-GM came from (mss, upload…)
    )

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "value": self.value,
            "from_kind": self.from_kind,
            "from_document_id": self.from_document_id,
            "from_source": self.from_source,
        }


@dataclass
class Proposal:
    """What a new document is offered; ``apply`` writes the kept fields."""

    id: int
    document: Document
    items: tuple[ProposedField, ...]
    kept: list[str] | None = None

    @property
    def fields(self) -> list[str]:
        return [item.field for item in self.items]

    def sources(self) -> list[dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        for item in self.items:
            seen.setdefault(
                item.from_document_id, {"kind": item.from_kind, "document_id": item.from_document_id}
            )
        return list(seen.values())

    def apply(
        self, session: Session, selection: Iterable[str] | Literal["all"] | None, author: str
    ) -> list[FieldEntry]:
        return apply(session, self, selection, author)


@dataclass(frozen=True)
class CareItem:
    categorie: str  # traitement, soin_support
    libelle: str
    date: date
    confirme: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "categorie": self.categorie,
            "libelle": self.libelle,
            "date": self.date.isoformat(),
            "confirme": self.confirme,
        }


@dataclass
class Syntheses:
    """The two syntheses of a PPS for one rendering; ``future_items`` counts listed items that are not both
    confirmed and past (0 unless something is wrong) and goes into ``document.rendered``."""

    document_id: str
    as_of: date
    treatments: list[CareItem] = field(default_factory=list)
    supportive_care: list[CareItem] = field(default_factory=list)
    future_items: int = 0
    ignored: int = 0  # malformed stored items, left out

    def record(self, session: Session) -> None:
        """Emits ``document.synthesis_built``: call it right after ``document.rendered`` (REPR.06 reads it within
        the next two events)."""
        events.emit(
            session,
            "document.synthesis_built",
            document_id=self.document_id,
            kind="PPS",
            as_of=self.as_of.isoformat(),
            treatments_synthesis=True,
            supportive_care_synthesis=True,
            treatments=len(self.treatments),
            supportive_care=len(self.supportive_care),
            future_items_in_syntheses=self.future_items,
        )


# -- sources -------------------------------------------------------------------------------------------------


# Statements built once, the patient as a bound parameter: every new document runs three of them, and building the
# expression each time cost more than running it.
_LATEST: dict[tuple[str, tuple[str, ...], int | None], Select[tuple[Document]]] = {}
_INSERT_PROPOSAL = PrefillProposal.__table__.insert()
_LATEST_CRGM = (
    select(ExternalDocument)
    .where(ExternalDocument.patient_id == bindparam("patient_id"), ExternalDocument.kind == "CR-GM")
    .order_by(ExternalDocument.id.desc())
    .limit(1)
)


def _latest(
    session: Session, patient_id: int, kind: str, statuses: tuple[str, ...], limit: int | None = None
) -> list[Document]:
    """The patient's documents of ``kind`` with one of ``statuses``, most recent first (at most ``limit``)."""
    statement = _LATEST.get((kind, statuses, limit))
    if statement is None:
        statement = (
            select(Document)
            .where(
                Document.patient_id == bindparam("patient_id"),
                Document.kind == kind,
                Document.status.in_(statuses),
            )
            .order_by(Document.id.desc())
            .limit(limit)
        )
        _LATEST[(kind, statuses, limit)] = statement
    return list(session.scalars(statement, {"patient_id": patient_id}))


def latest_validated_pps(
    session: Session, patient_id: int, exclude_set: str | None = None
) -> Document | None:
    for document in _latest(session, patient_id, "PPS", (VALIDE, CLOTURE)):
        if document.set_id != exclude_set:
            return document
    return None


def previous_validated_frcp(session: Session, patient_id: int) -> Document | None:
    found = _latest(session, patient_id, "FRCP", (VALIDE,), limit=1)
    return found[0] if found else None


def latest_crgm(session: Session, patient_id: int) -> ExternalDocument | None:
    return session.scalars(_LATEST_CRGM, {"patient_id": patient_id}).first()


def _text(value: Any) -> str | None:
    """A content value as the text ``documents.enter`` stores; lists and dicts as JSON. Empty values: None."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _from_document(
    source: Document, mapping: tuple[tuple[str, str], ...], taken: set[str], from_source: str = "dcc"
) -> list[ProposedField]:
    items = []
    for source_field, target in mapping:
        value = _text(source.content.get(source_field))
        if value is None or target in taken:
            continue
        taken.add(target)
        items.append(ProposedField(target, value, source.kind, identifiers.document_id(source), from_source))
    return items


# -- proposals -----------------------------------------------------------------------------------------------


def _store(
    session: Session, document: Document, groups: list[tuple[str, str, str, list[ProposedField]]]
) -> Proposal:
    """Stores the proposal and emits one ``document.prefill_proposed`` per source (kind, id, where it came from),
    even when that source had nothing to offer (the trace then shows an empty ``fields``)."""
    items = tuple(item for *_, group in groups for item in group)
    values = {
        "document_id": document.id,
        "items": [item.as_dict() for item in items],
        "created_at": datetime.now(UTC),
    }
    # one INSERT, not an ORM unit of work: every new document stores one; ``load`` reads it back when answered
    session.flush()
    proposal_id = session.connection().execute(_INSERT_PROPOSAL, values).inserted_primary_key[0]
    for from_kind, from_document_id, from_source, group in groups:
        events.emit(
            session,
            "document.prefill_proposed",
            document_id=identifiers.document_id(document),
            kind=document.kind,
            proposal_id=proposal_id,
            from_kind=from_kind,
            from_document_id=from_document_id,
            from_source=from_source,
            fields=[item.field for item in group],
        )
    return Proposal(proposal_id, document, items)


def propose(
    session: Session,
    document: Document,
    from_kind: str,
    from_document_id: str,
    from_source: str,
    values: dict[str, Any],
) -> Proposal:
    """A proposal from a source outside this module (e.g. the DMP cache of 2.3.4): same storage, same event."""
    group = [
        ProposedField(name, text, from_kind, from_document_id, from_source)
        for name, value in values.items()
        if (text := _text(value)) is not None
    ]
    return _store(session, document, [(from_kind, from_document_id, from_source, group)])


def new_frcp(
    session: Session,
    patient: Patient,
    author: str,
    content: dict[str, Any] | None = None,
    establishment_text_1: str | None = None,
    crgm: ExternalDocument | None = None,
    finess: str | None = None,
) -> Proposal:
    """A new FRCP (2.1.2.1) with what it is offered: the latest validated PPS (cas 1), the previous validated FRCP
    (cas 1 bis) and the conclusion of ``crgm`` or of the patient's latest CR-GM (cas 2)."""
    if crgm is not None and crgm.patient_id != patient.id:
        raise ReuseError("patient_mismatch", f"CR-GM {crgm.document_id} belongs to another patient")
    validated_pps = _latest(session, patient.id, "PPS", (VALIDE, CLOTURE))
    latest_pps = validated_pps[0] if validated_pps else None
    offered_pps = latest_pps
    if faults.active("prefill_ignores_latest_pps"):
        offered_pps = validated_pps[1] if len(validated_pps) > 1 else None
    previous_frcp = previous_validated_frcp(session, patient.id)
    crgm = crgm or latest_crgm(session, patient.id)

    created: dict[str, Any] = {}
    if latest_pps is not None:
        created["latest_pps_id"] = identifiers.document_id(latest_pps)
    if previous_frcp is not None:
        created["previous_frcp_id"] = identifiers.document_id(previous_frcp)
    if crgm is not None:
        created["crgm_id"] = crgm.document_id

    taken: set[str] = set(content or {})  # what the user typed is never overwritten by a proposal
    groups: list[tuple[str, str, str, list[ProposedField]]] = []
    if offered_pps is not None:
        items = _from_document(offered_pps, FRCP_FROM_PPS, taken)
        groups.append(("PPS", identifiers.document_id(offered_pps), "dcc", items))
    if previous_frcp is not None and not faults.active("prefill_ignores_previous_frcp"):
        items = _from_document(previous_frcp, FRCP_FROM_FRCP, taken)
        groups.append(("FRCP", identifiers.document_id(previous_frcp), "dcc", items))
    if crgm is not None and not faults.active("crgm_conclusion_not_proposed"):
        value = crgm.extracted.get(CRGM_FIELD)
        items = []
        if value and CRGM_FIELD not in (content or {}):
            items = [ProposedField(CRGM_FIELD, value, "CR-GM", crgm.document_id, crgm.source)]
        groups.append(("CR-GM", crgm.document_id, crgm.source, items))
    created["prefill_from"] = [{"kind": kind, "document_id": doc_id} for kind, doc_id, *_ in groups]
    document = documents.create_frcp(
        session, patient, author, content, establishment_text_1, event_fields=created, finess=finess
    )
    return _store(session, document, groups)


def new_pps(session: Session, frcp: Document, author: str, content: dict[str, Any] | None = None) -> Proposal:
    """A new PPS from its validated FRCP (2.1.2.2), offered the FRCP's proposal and the patient's previous
    validated PPS; ``documents.create_pps`` refuses an FRCP that is not validated."""
    previous = latest_validated_pps(session, frcp.patient_id)
    created: dict[str, Any] = {}
    if previous is not None:
        created["previous_pps_id"] = identifiers.document_id(previous)
    taken: set[str] = set(content or {})
    groups: list[tuple[str, str, str, list[ProposedField]]] = []
    if not faults.active("pps_prefill_missing"):
        groups.append(
            ("FRCP", identifiers.document_id(frcp), "dcc", _from_document(frcp, PPS_FROM_FRCP, taken))
        )
        if previous is not None:
            items = _from_document(previous, PPS_FROM_PPS, taken)
            groups.append(("PPS", identifiers.document_id(previous), "dcc", items))
    created["prefill_from"] = [{"kind": kind, "document_id": doc_id} for kind, doc_id, *_ in groups]
    document = documents.create_pps(session, frcp, author, content, event_fields=created)
    return _store(session, document, groups)


def new_version(session: Session, document: Document, author: str) -> Proposal:
    """A new version (2.1.2.3, 2.5.3). The content goes over with the version (the same document); for a PPS the
    realised care of the previous version — its realised items and its planned items now confirmed and past —
    is offered as ``soins_realises`` (REPR.07), so that what was done is kept whatever the user edits next."""
    successor = documents.new_version(session, document, author)
    groups: list[tuple[str, str, str, list[ProposedField]]] = []
    if document.kind == "PPS" and not faults.active("actualised_pps_drops_realised_care"):
        realised, _ = _care_items(document.content, include_planned=True)
        today = _today()
        done = [item.as_dict() for item in _dedup(realised) if item.confirme and item.date < today]
        value = json.dumps(done, ensure_ascii=False, sort_keys=True)
        item = ProposedField(
            "soins_realises", value, "PPS", identifiers.document_id(document), "previous_version"
        )
        groups.append(("PPS", identifiers.document_id(document), "previous_version", [item]))
    elif document.kind == "PPS":
        groups.append(("PPS", identifiers.document_id(document), "previous_version", []))
    return _store(session, successor, groups)


def load(session: Session, proposal_id: int) -> Proposal:
    row = session.get(PrefillProposal, proposal_id)
    if row is None:
        raise LookupError(f"no prefill proposal {proposal_id}")
    document = session.get(Document, row.document_id)
    items = tuple(ProposedField(**item) for item in row.items)
    return Proposal(row.id, document, items, row.kept)


def proposals_of(session: Session, document: Document) -> list[Proposal]:
    ids = session.scalars(
        select(PrefillProposal.id)
        .where(PrefillProposal.document_id == document.id)
        .order_by(PrefillProposal.id)
    ).all()
    return [load(session, i) for i in ids]


def apply(
    session: Session, proposal: Proposal, selection: Iterable[str] | Literal["all"] | None, author: str
) -> list[FieldEntry]:
    """Writes the kept fields (``"all"``, some names, or none: ``None`` or empty) as traced entries of ``author``
    and records the choice. Everything is checked before anything is written."""
    row = session.get(PrefillProposal, proposal.id)
    if row is None:
        raise LookupError(f"no prefill proposal {proposal.id}")
    document = session.get(Document, row.document_id)
    offered = [item["field"] for item in row.items]
    keep = offered if selection == ALL else list(dict.fromkeys(selection or ()))
    if row.kept is not None:
        raise ReuseError("already_applied", f"proposal {row.id} was already answered by {row.applied_by}")
    unknown = [name for name in keep if name not in offered]
    if unknown:
        raise ReuseError(
            "unknown_field",
            f"{', '.join(unknown)}: not in proposal {row.id} ({', '.join(offered) or 'empty'})",
        )
    if not author:
        raise ReuseError("no_author", "keeping proposed data needs the user who chose")
    if keep and document.status in (VALIDE, CLOTURE) and not faults.active("validated_document_editable"):
        raise ReuseError(
            "validated", f"{document.kind} {document.id} is « {document.status} »: changes need a new version"
        )
    if keep and document.read_only_reason:
        raise ReuseError(document.read_only_reason, f"{document.kind} {document.id} is read-only")
    values = {item["field"]: item for item in row.items}
    entries = [documents.enter(session, document, name, values[name]["value"], author) for name in keep]
    dropped = [name for name in offered if name not in keep]
    row.kept, row.applied_by, row.applied_at = keep, author, datetime.now(UTC)
    proposal.kept = keep
    audit.record(
        session,
        author,
        "document.prefill_applied",
        "document",
        identifiers.document_id(document),
        None,
        {"proposal_id": row.id, "kept": keep, "dropped": dropped},
    )
    events.emit(
        session,
        "document.prefill_applied",
        document_id=identifiers.document_id(document),
        kind=document.kind,
        proposal_id=row.id,
        kept=keep,
        dropped=dropped,
        kept_from=[
            {
                "field": n,
                "from_kind": values[n]["from_kind"],
                "from_document_id": values[n]["from_document_id"],
            }
            for n in keep
        ],
        author=author,
    )
    session.flush()
    return entries


# -- CR-GM ---------------------------------------------------------------------------------------------------


def integrate_crgm(
    session: Session, patient: Patient, data: bytes, author: str, source: str = "upload"
) -> ExternalDocument:
    """Stores a CR-GM received for ``patient`` (sent by another professional, or joined to a document) once its
    conclusion is read; the same document twice is stored once. Refused: unreadable (``CdaInputError`` with its
    XPath) or for another patient (its INS is not the patient's)."""
    crgm = parse_crgm(data)
    if patient.ins_matricule and crgm.patient_ins and crgm.patient_ins != patient.ins_matricule:
        raise ReuseError(
            "patient_mismatch",
            f"CR-GM {crgm.document_id} is for INS {crgm.patient_ins}, patient {patient.id} has another INS",
        )
    existing = session.scalars(
        select(ExternalDocument).where(
            ExternalDocument.patient_id == patient.id, ExternalDocument.document_id == crgm.document_id
        )
    ).first()
    if existing is not None:
        return existing
    stored = ExternalDocument(
        kind="CR-GM",
        patient_id=patient.id,
        document_id=crgm.document_id,
        set_id=crgm.set_id,
        version=crgm.version,
        effective_time=crgm.effective_time,
        source=source,
        extracted=crgm.extracted(),
        payload=data,
        sha256=hashlib.sha256(data).hexdigest(),
        received_by=author,
        received_at=datetime.now(UTC),
    )
    session.add(stored)
    session.flush()
    audit.record(
        session, author, "document.received", "external_document", crgm.document_id, None, {"kind": "CR-GM"}
    )
    events.emit(
        session,
        "document.received",
        document_id=crgm.document_id,
        kind="CR-GM",
        set_id=crgm.set_id,
        version=crgm.version,
        channel=source,
        patient_id=str(patient.id),
        sha256=stored.sha256,
    )
    return stored


# -- syntheses -----------------------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(PARIS).date()


def _parse_item(raw: Any) -> CareItem | None:
    try:
        categorie, libelle = raw["categorie"], str(raw["libelle"]).strip()
        when = date.fromisoformat(str(raw["date"]))
        confirme = raw.get("confirme") is True
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if categorie not in CATEGORIES or not libelle:
        return None
    return CareItem(categorie, libelle, when, confirme)


def _care_items(content: dict[str, Any], include_planned: bool = True) -> tuple[list[CareItem], int]:
    """The care items of a document's content (``soins_realises``, and ``soins_prevus`` when asked); stored as a
    list or as its JSON text. Returns the items and how many were malformed."""
    items, ignored = [], 0
    for name in CARE_FIELDS if include_planned else CARE_FIELDS[:1]:
        value = content.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                ignored += 1
                continue
        for raw in value or []:
            item = _parse_item(raw)
            if item is None:
                ignored += 1
            else:
                items.append(item)
    return items, ignored


def _dedup(items: Iterable[CareItem]) -> list[CareItem]:
    """One line per (category, label, date); confirmed wins over planned."""
    best: dict[tuple[str, str, date], CareItem] = {}
    for item in items:
        key = (item.categorie, item.libelle, item.date)
        if key not in best or (item.confirme and not best[key].confirme):
            best[key] = item
    return sorted(best.values(), key=lambda i: (i.date, i.libelle))


def build_syntheses(session: Session, document: Document, as_of: date | None = None) -> Syntheses:
    """The two syntheses for one rendering of a PPS (2.1.2.2): the care of this PPS and of the latest version of
    each of the patient's validated PPS, only confirmed items dated before ``as_of`` (today in Paris). Reads only:
    call ``Syntheses.record`` once the rendering is journaled."""
    if document.kind != "PPS":
        raise ReuseError("not_a_pps", f"document {document.id} is a {document.kind}: syntheses are for a PPS")
    as_of = as_of or _today()
    sources: dict[str, Document] = {document.set_id: document}
    for other in _latest(session, document.patient_id, "PPS", (VALIDE, CLOTURE)):
        if other.set_id not in sources:
            sources[other.set_id] = other
    collected: list[CareItem] = []
    ignored = 0
    for source in sources.values():
        items, bad = _care_items(source.content)
        collected.extend(items)
        ignored += bad
    include_all = faults.active("synthesis_includes_future_items")
    listed = [i for i in _dedup(collected) if include_all or (i.confirme and i.date < as_of)]
    return Syntheses(
        document_id=identifiers.document_id(document),
        as_of=as_of,
        treatments=[i for i in listed if i.categorie == "traitement"],
        supportive_care=[i for i in listed if i.categorie == "soin_support"],
        future_items=sum(1 for i in listed if not (i.confirme and i.date < as_of)),
        ignored=ignored,
    )
