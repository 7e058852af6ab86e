"""Plain data for one CDA document (FRCP or PPS), independent of the database.

Why a separate layer: the XML builder takes only these frozen dataclasses, so property-based tests can generate
documents for any patient situation without a database, and ``dcc.cda.fromdb`` is the one place that reads the
stored Document, Patient and attachments into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

INS_OIDS = {
    "1.2.250.1.213.1.4.8": "INS-NIR",
    "1.2.250.1.213.1.4.9": "INS-NIA",
    "1.2.250.1.213.1.4.10": "INS-NIR de test",
    "1.2.250.1.213.1.4.11": "INS-NIR de démonstration",
}
QUALIFIED = "qualifiee"


@dataclass(frozen=True)
class Address:
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class Organisation:
    """An establishment or a practice; ``finess`` (9 digits) gives the national id ``1``+FINESS."""

    name: str
    finess: str | None = None
    address: Address = field(default_factory=Address)
    telecom: str | None = None  # e.g. tel:0242515100


@dataclass(frozen=True)
class Professional:
    """A health professional; ``rpps`` (11 digits) gives the national id ``8``+RPPS (IdNat PS)."""

    family: str
    given: str
    rpps: str | None = None
    specialty_code: str = "G15_10"
    specialty_label: str = "Médecin"
    organisation: Organisation | None = None
    mssante: str | None = None  # MSSanté address, written as a mailto: telecom


@dataclass(frozen=True)
class PatientIdentity:
    """The strict traits and, only when ``identity_status`` is « qualifiée », the INS (matricule + OID)."""

    local_id: str  # the DCC's own patient id (IPP-like), always written
    nom_naissance: str
    prenoms: tuple[str, ...]
    sexe: str  # M, F
    date_naissance: date
    lieu_naissance: str | None  # COG, 5 characters
    identity_status: str
    ins_matricule: str | None = None
    ins_oid: str | None = None

    @property
    def qualified(self) -> bool:
        return self.identity_status == QUALIFIED and bool(self.ins_matricule) and self.ins_oid in INS_OIDS


@dataclass(frozen=True)
class Rcp:
    """The RCP the FRCP was produced for: national ids of the RRC, the RCP manager and the RCP (from document
    content today; an RCP directory may provide them later), the session and the establishment."""

    rrc_id: str
    manager_id: str
    rcp_id: str
    name: str
    date: datetime
    facility: Organisation
    session_id: str | None = None
    quorum: bool | None = None
    quorum_code: str | None = None  # JDV_StatutQuorum-CISIS code when the RCP directory recorded it


@dataclass(frozen=True)
class Diagnosis:
    date: date | None = None
    topography_code: str | None = None  # CIM-10 (jdv-tumeur-cisis), e.g. C50.2
    topography_label: str | None = None
    morphology_code: str | None = None  # CIM-O-3, e.g. 8500/3
    morphology_label: str | None = None
    tnm_t: str = "TX"
    tnm_n: str = "NX"
    tnm_m: str = "MX"


@dataclass(frozen=True)
class CareItem:
    """One treatment, follow-up or supportive care. ``done`` is true only for care with confirmed dates in the
    past: the two syntheses of the PPS are built from those alone (2.1.2.2)."""

    label: str
    code: str | None = None  # from jdv-type-traitement-pps / jdv-soin-onco-de-support
    start: date | None = None
    end: date | None = None
    confirmed: bool = False
    comment: str | None = None

    def done(self, today: date) -> bool:
        last = self.end or self.start
        return self.confirmed and last is not None and last < today


@dataclass(frozen=True)
class AttachmentData:
    title: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class DocumentRef:
    """A previous version: its ClinicalDocument/id and version number (relatedDocument RPLC)."""

    root: str
    extension: str
    version: int


@dataclass(frozen=True)
class CdaDocument:
    kind: str  # FRCP, PPS
    id_root: str
    id_extension: str
    set_id: str
    version: int
    status: str  # en_cours, complete, valide, cloture
    effective_time: datetime
    patient: PatientIdentity
    author: Professional
    custodian: Organisation
    custodian_oid: str
    legal_authenticator: Professional
    recipients: tuple[Professional, ...] = ()
    rcp: Rcp | None = None
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
    reason: str = ""  # motif de la RCP / de la mise à jour
    case_summary: str = ""  # synthèse du cas et question posée
    proposal: str = ""  # proposition de la RCP
    treatments: tuple[CareItem, ...] = ()
    supportive_care: tuple[CareItem, ...] = ()
    comment: str = ""
    screening: bool | None = None  # patient issu du dépistage
    transversal: bool = False  # RCP transversale et de soins de support (else RCP appareil - organes)
    rgpd_text_1: str = ""
    rgpd_text_2: str = ""
    attachments: tuple[AttachmentData, ...] = ()
    replaces: DocumentRef | None = None
    pdf: bytes | None = None  # the document's own PDF copy (section FR-Document-PDF-copie)
    template_version: str = "2025.01"

    @property
    def today(self) -> date:
        return self.effective_time.date()
