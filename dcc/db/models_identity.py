"""Identities as they reach the DCC, before and after the rapprochement (2.3.2.1–2.3.2.3).

Why keep them apart from ``patient``: an identity received by flow (or typed by hand) is an input to judge, not yet
the DCC's identity. It holds what the sender said (traits, status, INS, justificatif), which case of the identity
tables applied, and — when the traits are incoherent with a local identity — stays ``pending`` until a human says
whether the local identity is kept or a new one created. A matricule typed by hand also waits here until INSi
confirms it: the patient holds an INS only when récupérée or qualifiée.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dcc.db.base import Base


class IdentityInput(Base):
    __tablename__ = "identity_input"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(6))  # flux, saisie
    source_system: Mapped[str | None] = mapped_column(String(120))
    source_identity_id: Mapped[str | None] = mapped_column(String(120), index=True)
    traits: Mapped[dict] = mapped_column(JSON)
    received_status: Mapped[str | None] = mapped_column(String(12))
    ins_matricule: Mapped[str | None] = mapped_column(String(15))
    ins_oid: Mapped[str | None] = mapped_column(String(64))
    justificatif: Mapped[str | None] = mapped_column(String(40))
    trust_clause: Mapped[bool] = mapped_column(Boolean)
    document_id: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(8))  # pending, decided
    match: Mapped[str | None] = mapped_column(String(12))  # identique, absente, retenue, non_retenue
    case: Mapped[str | None] = mapped_column(String(3))
    candidates: Mapped[list | None] = mapped_column(JSON)  # patient ids proposed for a rapprochement
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
