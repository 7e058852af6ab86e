"""Tables of the reference DCC (typed with ``Mapped``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dcc.db.base import Base


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom_naissance: Mapped[str] = mapped_column(String(100))
    prenoms: Mapped[str] = mapped_column(String(200))  # the list of birth first names, space separated
    sexe: Mapped[str] = mapped_column(String(1))
    date_naissance: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    lieu_naissance: Mapped[str | None] = mapped_column(String(5))  # COG
    ins_matricule: Mapped[str | None] = mapped_column(String(15))  # 13 characters + key, when known
    ins_oid: Mapped[str | None] = mapped_column(String(64))
    identity_status: Mapped[str] = mapped_column(String(12))  # provisoire, recuperee, validee, qualifiee
    justificatif: Mapped[str | None] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(6))  # saisie, flux
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    history: Mapped[list[IdentityStatusChange]] = relationship(
        back_populates="patient", order_by="IdentityStatusChange.id"
    )


class IdentityStatusChange(Base):
    """Every status change of an identity, with the previous status, the date and the author (RNIV)."""

    __tablename__ = "identity_status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    previous_status: Mapped[str | None] = mapped_column(String(12))
    new_status: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    patient: Mapped[Patient] = relationship(back_populates="history")


class AuditEntry(Base):
    """Append-only, hash-chained audit log: each entry's hash covers its content and the previous entry's hash."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Document(Base):
    """An FRCP or a PPS, one version of it (set_id + version), with its status (2.1.1.1)."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("set_id", "version", name="uq_document_set_id_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))  # FRCP, PPS
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    set_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # en_cours, complete, valide, cloture
    frcp_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # the FRCP of a PPS
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # the previous version
    read_only_reason: Mapped[str | None] = mapped_column(String(40))  # e.g. sent_to_peer
    content: Mapped[dict] = mapped_column(JSON)
    rgpd_text_1: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    finess: Mapped[str | None] = mapped_column(String(9))  # the establishment the document is produced for
    author_rpps: Mapped[str | None] = mapped_column(String(11))


class FieldEntry(Base):
    """Who typed what, when, in a document (2.1.2.1: the operator of every manual entry is traced)."""

    __tablename__ = "field_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    title: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CguAcceptance(Base):
    """A professional's acceptance of a CGU version, which carries the clause de confiance (2.3.1)."""

    __tablename__ = "cgu_acceptance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    cgu_version: Mapped[str] = mapped_column(String(20))
    user_kind: Mapped[str] = mapped_column(String(14))  # liberal, etablissement
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Convention(Base):
    """The convention between an establishment (FINESS) and the DSRC that carries its clause de confiance."""

    __tablename__ = "convention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finess: Mapped[str] = mapped_column(String(9))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DccEvent(Base):
    """The DCC's event journal: what it did, in order, with the fields of docs/trace-events.md. Written in the same
    transaction as the change it describes, so the exported trace never claims what did not commit."""

    __tablename__ = "dcc_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    type: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[dict] = mapped_column(JSON)
    artifacts: Mapped[list | None] = mapped_column(JSON)
    scope: Mapped[str | None] = mapped_column(String(80), index=True)  # the recette scenario that caused it


class Transmission(Base):
    """A durable outbox job: one document to one recipient by one channel. ``key`` is unique (document, channel,
    recipient), so queuing twice is a no-op and a re-delivery after a crash reuses the same external id."""

    __tablename__ = "transmission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    channel: Mapped[str] = mapped_column(
        String(16)
    )  # mss_pro, mss_citoyenne, pdc, dmp, peer_dcc, peer_dcc_return, dpi
    recipient: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(16))  # cda_n1, cda_n3, cda_n3_pdf
    trigger: Mapped[str] = mapped_column(String(16))  # validation, manual, exchange
    state: Mapped[str] = mapped_column(String(10))  # pending, sent, failed (gave up)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    external_id: Mapped[str | None] = mapped_column(String(200))  # Message-ID or XDS uniqueId
    last_error: Mapped[str | None] = mapped_column(Text)
    finess: Mapped[str | None] = mapped_column(String(9))
    rpps: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # added by migration 0009_transmissions (dcc/transmissions)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    inflight_attempt: Mapped[int | None] = mapped_column(Integer)  # started, result unknown (worker died?)
    inflight_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    document_status: Mapped[str | None] = mapped_column(String(10))  # the document's status when queued
    identity_status: Mapped[str | None] = mapped_column(
        String(12)
    )  # the patient's identity status when queued
    recipient_source: Mapped[str | None] = mapped_column(String(16))  # annuaire, ins, configuration, exchange
    options: Mapped[dict | None] = mapped_column(JSON)  # channel details (DMP visibility, RPLC target, ...)


class TransmissionAttempt(Base):
    """Each delivery attempt and its result: what the regional dashboard counts (2.4)."""

    __tablename__ = "transmission_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transmission_id: Mapped[int] = mapped_column(ForeignKey("transmission.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    result: Mapped[str] = mapped_column(String(8))  # success, failure
    error: Mapped[str | None] = mapped_column(Text)
    ins_qualified: Mapped[bool] = mapped_column(Boolean)
    # added by migration 0011_tbb_attempt_cube: the dashboard's dimensions, copied when the attempt is written
    # (UTC month ``YYYY-MM``; channel; the document's kind; FINESS and RPPS of the transmission, else of the
    # document), so its monthly counts read this table alone (``dcc.tbb.extract``). NULL: counted through the join.
    month: Mapped[str | None] = mapped_column(String(7))
    channel: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(4))
    finess: Mapped[str | None] = mapped_column(String(9))
    rpps: Mapped[str | None] = mapped_column(String(11))
