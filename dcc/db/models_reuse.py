"""Tables of data reuse (cahier des charges 2.1.2): documents received from outside (a CR-GM), and the prefill
proposals a user keeps in full, in part or not at all (REPR.04: nothing proposed is written without the user)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dcc.db.base import Base
from dcc.db.models import Attachment, Document


class ExternalDocument(Base):
    """A CDA document of the care pathway that the DCC did not produce (a CR-GM sent by another professional or
    joined to a document): the original bytes, and what was read from them."""

    __tablename__ = "external_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # CR-GM
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    document_id: Mapped[str] = mapped_column(String(200))  # ClinicalDocument/id as root^extension
    set_id: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int | None] = mapped_column(Integer)
    effective_time: Mapped[str | None] = mapped_column(String(32))  # as written in the CDA (TS)
    source: Mapped[str] = mapped_column(String(16))  # mss, attachment, dmp, upload
    extracted: Mapped[dict] = mapped_column(JSON)  # e.g. {"conclusion_moleculaire": "..."}
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PrefillProposal(Base):
    """What the DCC offered to prefill a new document with, field by field with each field's source, and what the
    user kept (``kept`` stays null until the user chose)."""

    __tablename__ = "prefill_proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    items: Mapped[list] = mapped_column(JSON)  # [{field, value, from_kind, from_document_id, from_source}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kept: Mapped[list | None] = mapped_column(JSON)
    applied_by: Mapped[str | None] = mapped_column(String(64))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


# A patient's documents by kind: the reuse look-ups and the document list (created by migration 0007_reuse).
Index("ix_document_patient_id_kind", Document.patient_id, Document.kind)
Index("ix_attachment_document_id", Attachment.document_id)
