"""Tables of the transmissions area (migration 0009): acknowledgements received for outbox messages, what this DCC
has put in the DMP (to replace it later), what it read from the DMP (kept locally without consent), the patient's
DMP choices, and the messages received from other systems (so that a mail delivered twice is integrated once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dcc.db.base import Base


class TransmissionAck(Base):
    """A delivery (DSN) or processing (MDN) acknowledgement received for a message this DCC sent (MSS/PRO.02)."""

    __tablename__ = "transmission_ack"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transmission_id: Mapped[int | None] = mapped_column(ForeignKey("transmission.id"))
    message_id: Mapped[str] = mapped_column(String(200), index=True)  # the acknowledged message's Message-ID
    kind: Mapped[str] = mapped_column(String(4))  # dsn, mdn
    status: Mapped[str] = mapped_column(String(12))  # delivered, failed, processed, error
    code: Mapped[str | None] = mapped_column(String(8))  # 900-906 for error MDNs, the DSN status otherwise
    detail: Mapped[str | None] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DmpEntry(Base):
    """A document entry this DCC submitted to the DMP: its XDS ids, so a later version or a visibility change can
    replace it (RPLC), and whether it is invisible to the patient."""

    __tablename__ = "dmp_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    transmission_id: Mapped[int | None] = mapped_column(ForeignKey("transmission.id"))
    entry_uuid: Mapped[str] = mapped_column(String(64))  # the ExtrinsicObject id (RPLC target)
    unique_id: Mapped[str] = mapped_column(String(200), unique=True)
    patient_ins: Mapped[str] = mapped_column(String(15), index=True)
    kind: Mapped[str] = mapped_column(String(4))
    set_id: Mapped[str] = mapped_column(String(64))
    invisible_patient: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(10))  # approved, deprecated
    replaces_unique_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DmpCachedDocument(Base):
    """A document read from the DMP (ITI-43), kept locally: without consent the DCC works from this copy
    (cahier des charges 2.3.4.1) and refreshes it at the next allowed consultation."""

    __tablename__ = "dmp_cached_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_ins: Mapped[str] = mapped_column(String(15), index=True)
    unique_id: Mapped[str] = mapped_column(String(200), unique=True)
    type_code: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(12))  # Approved, Deprecated
    mime_type: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DmpPatientChoice(Base):
    """The patient's choices about the DMP: opposition to feeding it, consent to its consultation."""

    __tablename__ = "dmp_patient_choice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), unique=True)
    opposition: Mapped[bool] = mapped_column(Boolean)
    consent: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboundMessage(Base):
    """A document message received by this DCC's BAL applicative (FRCP from or back from another DCC): its
    Message-ID is unique, so a mail delivered twice is integrated once."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(12))  # integrated, refused
    code: Mapped[str | None] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
