"""Tables of the resources that help filling the documents (cahier des charges 2.1.5): the therapeutic data bank
with per-user favourites, the PS contact directory fed by the Annuaire Santé, the regional RCP directory and the
planning of RCP sessions (Cadre national DCC/DMP 5.2–5.5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dcc.db.base import Base

# --- Banque de données thérapeutiques (2.1.5.1) -------------------------------------------------------------------


class BdtEntry(Base):
    """One item of the bank: a protocol, a molecule or a side effect, with its code when it has one."""

    __tablename__ = "bdt_entry"
    __table_args__ = (UniqueConstraint("kind", "label", name="uq_bdt_entry_kind_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # protocole, molecule, effet_secondaire
    label: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(40))
    code_system: Mapped[str | None] = mapped_column(String(80))  # e.g. ATC, UCD, local
    details: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BdtFavorite(Base):
    """A favourite belongs to one user: it is listed first for that user only (BDT.02)."""

    __tablename__ = "bdt_favorite"
    __table_args__ = (UniqueConstraint("user_id", "entry_id", name="uq_bdt_favorite_user_id_entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bdt_entry.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- Annuaire de contact PS (2.1.5.2) --------------------------------------------------------------------------


class PsContact(Base):
    """A health professional as the Annuaire Santé describes them, keyed by the national identifier (IdNat PS:
    ``8`` + RPPS, or ``0`` + ADELI). The IdNat index is not unique on purpose: one contact per IdNat is kept by the
    import (it updates, never re-inserts), and every import ends by *looking* for doubles
    (``directory.duplicate_detected``), which is what ANN.04 judges — a unique constraint would turn a faulty
    import into a crash instead of an observable double."""

    __tablename__ = "ps_contact"
    __table_args__ = (
        Index("ix_ps_contact_idnat", "idnat"),
        Index("ix_ps_contact_rpps", "rpps"),
        Index("ix_ps_contact_family_folded", "family_folded"),
        Index("ix_ps_contact_mss_address", "mss_address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_type: Mapped[str] = mapped_column(String(1))  # 8 RPPS, 0 ADELI
    rpps: Mapped[str] = mapped_column(String(11))  # the "Identifiant PP" (RPPS or ADELI number)
    idnat: Mapped[str] = mapped_column(String(12))
    civilite: Mapped[str | None] = mapped_column(String(10))
    family: Mapped[str] = mapped_column(String(100))
    given: Mapped[str | None] = mapped_column(String(100))
    family_folded: Mapped[str] = mapped_column(String(100))  # upper case without accents, for search
    profession_code: Mapped[str | None] = mapped_column(String(10))
    profession_label: Mapped[str | None] = mapped_column(String(100))
    savoir_faire: Mapped[str | None] = mapped_column(String(20))
    activities: Mapped[list] = mapped_column(JSON, default=list)  # [{finess_site, raison_sociale, mode, ...}]
    mss_address: Mapped[str | None] = mapped_column(String(200))  # the personal MSSanté mailbox (ANN.03)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(12))  # extraction, mssante, fhir
    ps_import_id: Mapped[str | None] = mapped_column(String(36))  # last PS_LibreAcces import that listed them
    mss_import_id: Mapped[str | None] = mapped_column(String(36))  # last MSSanté import that set mss_address
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MssMailbox(Base):
    """One line of the MSSanté extraction: a mailbox of a professional (IdNat PS) or of a structure."""

    __tablename__ = "mss_mailbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(3))  # PER, ORG, APP, CAB
    idnat_pp: Mapped[str | None] = mapped_column(String(12), index=True)
    structure_id: Mapped[str | None] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[str] = mapped_column(String(36))


class AnnuaireImport(Base):
    """One integration of an extraction file: its counts and where it stands (ANN.01 report)."""

    __tablename__ = "annuaire_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # personne_activite, mssante
    file: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer)  # 1 for the first import of this kind, then 2, 3 …
    status: Mapped[str] = mapped_column(String(10))  # running, finished, aborted
    lines: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AnnuaireReject(Base):
    """A line of an extraction that was not integrated, with its number in the file and why."""

    __tablename__ = "annuaire_reject"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("annuaire_import.import_id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


# --- Annuaire régional de RCP et organisation des RCP (2.1.5.3, cadre national 5.2–5.5) -----------------------


class Rcp(Base):
    """A RCP of the regional directory, with the national identifiers the FRCP header carries
    (encompassingEncounter: RRC 1.2.250.1.161.1.20.1.1, gestionnaire 20.2.1, RCP 20.3.1)."""

    __tablename__ = "rcp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # national RCP identifier (extension)
    name: Mapped[str] = mapped_column(String(200))
    rrc_id: Mapped[str | None] = mapped_column(String(40))
    manager_id: Mapped[str | None] = mapped_column(String(40))  # gestionnaire de la RCP
    organiser: Mapped[str] = mapped_column(String(200))  # establishment organising the RCP
    organiser_finess: Mapped[str | None] = mapped_column(String(9))
    centre_3c: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(100))
    quorum_specialties: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RcpSession(Base):
    """A planned meeting of a RCP: title, date, place, visio, expected participants (5.2); then the final list
    closed by the 3C (5.4) and the quorum of the meeting (RCP.04)."""

    __tablename__ = "rcp_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcp.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(200))
    visio: Mapped[bool] = mapped_column(Boolean, default=False)
    visio_url: Mapped[str | None] = mapped_column(String(300))
    # [{id, name, specialty, role}] with role responsable, suppleant or membre
    participants: Mapped[list] = mapped_column(JSON, default=list)
    planned_by: Mapped[str] = mapped_column(String(64))
    final_list_closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    final_list_closed_by: Mapped[str | None] = mapped_column(String(64))
    present: Mapped[list | None] = mapped_column(JSON)  # participant ids present at the meeting
    quorum: Mapped[str | None] = mapped_column(String(8))  # ORG-126 atteint, ORG-133 non atteint, GEN-010
    quorum_recorded_by: Mapped[str | None] = mapped_column(String(64))


class RcpRegistration(Base):
    """A patient's file put on a session by the treating doctor (5.4); ``retained`` is set by the 3C's final
    list."""

    __tablename__ = "rcp_registration"
    __table_args__ = (
        UniqueConstraint("session_id", "patient_id", name="uq_rcp_registration_session_id_patient_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("rcp_session.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # the FRCP, when started
    doctor: Mapped[str] = mapped_column(String(64))  # the treating doctor who registered the file
    doctor_mss: Mapped[str | None] = mapped_column(String(200))
    motive: Mapped[str | None] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(64))  # the doctor, or the 3C on the doctor's request
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retained: Mapped[bool | None] = mapped_column(Boolean)


class RcpNotification(Base):
    """What the DCC told a doctor about a session (the final list, 5.4): kept so it can be shown and proved."""

    __tablename__ = "rcp_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("rcp_session.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("rcp_registration.id"))
    recipient: Mapped[str] = mapped_column(String(64))
    recipient_mss: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
