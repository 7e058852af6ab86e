"""Tables of the reference DCC (typed with ``Mapped``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
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
