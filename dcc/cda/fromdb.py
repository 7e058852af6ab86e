"""Stored rows → ``CdaDocument``: the Document, its Patient, its attachments and the previous version.

The clinical content comes from ``Document.content`` (a JSON dict, keys documented in docs/cda-production.md);
the RCP identifiers are taken from ``content["rcp"]`` (a plain dict, which an RCP directory may fill later).
Missing values stay missing (nullFlavor in the CDA), they are never invented.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import identifiers, settings
from dcc.cda.model import (
    Address,
    AttachmentData,
    CareItem,
    CdaDocument,
    Diagnosis,
    DocumentRef,
    Organisation,
    PatientIdentity,
    Professional,
    Rcp,
)
from dcc.db.models import Attachment, Document, Patient
from dcc.services import rgpd_texts


def _date(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any, default: datetime) -> datetime:
    if not value:
        return default
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def organisation(data: dict[str, Any] | None) -> Organisation | None:
    if not data:
        return None
    return Organisation(
        name=str(data.get("nom") or data.get("name") or "Établissement"),
        finess=data.get("finess"),
        address=Address(data.get("adresse"), data.get("code_postal"), data.get("ville")),
        telecom=data.get("telecom"),
    )


def professional(data: dict[str, Any] | None, fallback_id: str = "", rpps: str | None = None) -> Professional:
    data = data or {}
    return Professional(
        family=str(data.get("nom") or fallback_id.upper() or "INCONNU"),
        given=str(data.get("prenom") or fallback_id or "-"),
        rpps=data.get("rpps") or rpps,
        specialty_code=str(data.get("specialite_code") or "G15_10"),
        specialty_label=str(data.get("specialite") or "Médecin"),
        organisation=organisation(data.get("etablissement")),
        mssante=data.get("mssante"),
    )


def _care(items: Any) -> tuple[CareItem, ...]:
    """A list of care dicts, or a free-text string (one planned item, as older content stores it)."""
    if not items:
        return ()
    if isinstance(items, str):
        return (CareItem(label=items),)
    return tuple(
        CareItem(
            label=str(item.get("libelle") or item.get("label") or "Soin"),
            code=item.get("code"),
            start=_date(item.get("debut")),
            end=_date(item.get("fin")),
            confirmed=bool(item.get("confirme", False)),
            comment=item.get("commentaire"),
        )
        for item in items
    )


def patient_identity(patient: Patient) -> PatientIdentity:
    return PatientIdentity(
        local_id=str(patient.id),
        nom_naissance=patient.nom_naissance,
        prenoms=tuple(patient.prenoms.split()) or ("-",),
        sexe=patient.sexe,
        date_naissance=date.fromisoformat(patient.date_naissance),
        lieu_naissance=patient.lieu_naissance,
        identity_status=patient.identity_status,
        ins_matricule=patient.ins_matricule,
        ins_oid=patient.ins_oid,
    )


def rcp_from(data: dict[str, Any] | None, default_date: datetime, custodian: Organisation) -> Rcp | None:
    if not data:
        return None
    return Rcp(
        rrc_id=str(data.get("rrc_id") or ""),
        manager_id=str(data.get("gestionnaire_id") or data.get("manager_id") or ""),
        rcp_id=str(data.get("rcp_id") or ""),
        name=str(data.get("nom") or data.get("name") or "RCP"),
        date=_datetime(data.get("date"), default_date),
        facility=organisation(data.get("etablissement")) or custodian,
        session_id=data.get("session_id"),
        quorum=data.get("quorum"),
    )


def _extension(identifier: str | None) -> str:
    return (identifier or "").rpartition("^")[2]


def rcp_from_directory(session: Session, document: Document, custodian: Organisation) -> Rcp | None:
    """The RCP the patient was registered to, from the RCP directory (``dcc.services.rcp.frcp_context``)."""
    from dcc.services.rcp import QUORUM_NOT_REACHED, QUORUM_REACHED, frcp_context

    context = frcp_context(session, document.patient_id, document)
    if not context:
        return None
    quorum = context.get("quorum")
    return Rcp(
        rrc_id=_extension(context.get("rrc_id")),
        manager_id=_extension(context.get("manager_id")),
        rcp_id=_extension(context.get("rcp_id")),
        name=str(context.get("rcp_name") or "RCP"),
        date=_datetime(context.get("date"), document.created_at),
        facility=Organisation(
            name=str(context.get("organiser") or custodian.name),
            finess=context.get("organiser_finess"),
            address=Address(street=context.get("place")),
        ),
        session_id=context.get("session_id"),
        quorum={QUORUM_REACHED: True, QUORUM_NOT_REACHED: False}.get(quorum),
        quorum_code=quorum,
    )


def from_document(session: Session, document: Document, pdf: bytes | None = None) -> CdaDocument:
    patient = session.get(Patient, document.patient_id)
    if patient is None:
        raise ValueError(f"document {document.id}: patient {document.patient_id} not found")
    content: dict[str, Any] = dict(document.content or {})
    created = document.created_at if document.created_at.tzinfo else document.created_at.replace(tzinfo=UTC)
    name, finess = settings.custodian()
    custodian = Organisation(name=name, finess=finess)
    author = professional(content.get("auteur"), document.created_by, document.author_rpps)
    if (
        author.organisation is None
    ):  # the performer acts for a structure: by default the RCP's (the custodian)
        author = replace(author, organisation=custodian)
    diagnosis = content.get("diagnostic") or {}
    replaces = None
    if document.replaces_id is not None:
        previous = session.get(Document, document.replaces_id)
        replaces = DocumentRef(identifiers.document_root(), str(previous.id), previous.version)
    attachments = session.scalars(
        select(Attachment).where(Attachment.document_id == document.id).order_by(Attachment.id)
    ).all()
    return CdaDocument(
        kind=document.kind,
        id_root=identifiers.document_root(),
        id_extension=str(document.id),
        set_id=identifiers.set_id(document),
        version=document.version,
        status=document.status,
        effective_time=created,
        patient=patient_identity(patient),
        author=author,
        custodian=custodian,
        custodian_oid=settings.dcc_oid(),
        legal_authenticator=professional(content["responsable"]) if content.get("responsable") else author,
        recipients=tuple(professional(r) for r in content.get("destinataires") or ()),
        rcp=rcp_from(content.get("rcp"), created, custodian)
        or (rcp_from_directory(session, document, custodian) if document.kind == "FRCP" else None),
        diagnosis=Diagnosis(
            date=_date(diagnosis.get("date")),
            topography_code=diagnosis.get("topographie_code"),
            topography_label=diagnosis.get("topographie"),
            morphology_code=diagnosis.get("morphologie_code"),
            morphology_label=diagnosis.get("morphologie"),
            tnm_t=str(diagnosis.get("t") or "TX"),
            tnm_n=str(diagnosis.get("n") or "NX"),
            tnm_m=str(diagnosis.get("m") or "MX"),
        ),
        reason=str(content.get("motif") or ""),
        case_summary=str(content.get("synthese") or ""),
        proposal=str(content.get("proposition") or ""),
        treatments=_care(content.get("traitements")),
        supportive_care=_care(content.get("soins_support")),
        comment=str(content.get("commentaire") or ""),
        screening=content.get("depistage"),
        transversal=bool(content.get("transversale", False)),
        rgpd_text_1=document.rgpd_text_1,
        rgpd_text_2=rgpd_texts.text_2(session, document.finess),
        attachments=tuple(AttachmentData(a.title, a.mime_type, a.content) for a in attachments),
        replaces=replaces,
        pdf=pdf,
    )
