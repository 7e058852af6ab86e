"""The CDA header of an FRCP or PPS (CI-SIS structuration minimale + the volet's header constraints).

The INS rule (RNIV, INS.09 / CDA.04): the matricule and its OID are written only when the identity is
« qualifiée »; otherwise the patient is identified by the DCC's local id and the traits alone.
"""

from __future__ import annotations

from lxml import etree

from dcc import faults
from dcc.cda.model import INS_OIDS, Address, CdaDocument, Organisation, PatientIdentity, Professional
from dcc.cda.xml import FINESS_ROOT, LOINC, NSMAP, RPPS_ROOT, Ids, q, sub, ts

FAULT_INS_NOT_QUALIFIED = faults.register(
    "cda_ins_when_not_qualified",
    "the CDA header carries the INS matricule and its OID although the identity is not « qualifiée »",
    breaks=["INS.08"],
)
FAULT_RPLC_MISSING = faults.register(
    "cda_rplc_missing",
    "a new version of a document is written without relatedDocument RPLC to the version it replaces",
    # faults --prove shows DOC.04 breaks with it (its scenario's new version reaches the DMP without replacing)
    breaks=["CDA.06", "DOC.04"],
)
FAULT_N1_TEMPLATE = faults.register(
    "cda_n1_without_xds_sd_template",
    "the CDA R2 N1 is written without the IHE XDS-SD templateId the structuration minimale requires",
    breaks=["CDA.03"],
)
FAULT_NO_BR = faults.register(
    "cda_qualified_traits_not_br",
    "the header of a qualified identity writes the birth names without the BR qualifier",
    breaks=["CDA.04"],
)

TEMPLATES = {"FRCP": "1.2.250.1.213.1.1.1.8", "PPS": "1.2.250.1.213.1.1.1.26"}
XDS_SD_TEMPLATE = "1.3.6.1.4.1.19376.1.2.20"
CODES = {
    "FRCP": ("34794-8", "CR de réunion de concertation pluridisciplinaire"),
    "PPS": ("18776-5", "Plan personnalisé de soins"),
}
TITLES = {
    "FRCP": "FICHE DE RÉUNION DE CONCERTATION PLURIDISCIPLINAIRE",
    "PPS": "PROGRAMME PERSONNALISÉ DE SOINS EN CANCÉROLOGIE",
}
SEX = {"M": "Masculin", "F": "Féminin"}


def patient_local_root(custodian_oid: str) -> str:
    """Root of the DCC's own patient id (an IPP-like identifier, always present)."""
    return f"{custodian_oid}.2"


def header(document: CdaDocument, level: str, ids: Ids) -> etree._Element:
    root = etree.Element(q("ClinicalDocument"), nsmap=NSMAP)
    sub(root, "realmCode", code="FR")
    sub(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    sub(root, "templateId", root="2.16.840.1.113883.2.8.2.1")
    sub(root, "templateId", root="1.2.250.1.213.1.1.1.1")
    if level == "N1":
        if not faults.active(FAULT_N1_TEMPLATE.name):
            sub(root, "templateId", root=XDS_SD_TEMPLATE)
    else:
        sub(root, "templateId", root=TEMPLATES[document.kind], extension=document.template_version)
    sub(root, "id", root=document.id_root, extension=document.id_extension)
    code, display = CODES[document.kind]
    sub(root, "code", code=code, displayName=display, codeSystem=LOINC, codeSystemName="LOINC")
    sub(root, "title", _title(document))
    sub(root, "effectiveTime", value=ts(document.effective_time))
    sub(root, "confidentialityCode", code="N", displayName="Normal", codeSystem="2.16.840.1.113883.5.25")
    sub(root, "languageCode", code="fr-FR")
    sub(root, "setId", root=document.set_id)
    sub(root, "versionNumber", value=str(document.version))
    _record_target(root, document)
    _author(root, document)
    _custodian(root, document)
    for recipient in document.recipients:
        _information_recipient(root, recipient)
    _legal_authenticator(root, document)
    if document.kind == "FRCP":
        _frcp_participants(root, document)
    _documentation_of(root, document)
    if document.replaces is not None and not faults.active(FAULT_RPLC_MISSING.name):
        related = sub(root, "relatedDocument", typeCode="RPLC")
        parent = sub(related, "parentDocument")
        sub(parent, "id", root=document.replaces.root, extension=document.replaces.extension)
        sub(parent, "versionNumber", value=str(document.replaces.version))
    _component_of(root, document)
    return root


def _title(document: CdaDocument) -> str:
    if document.kind == "FRCP" and document.rcp is not None:
        return f"FRCP {document.rcp.name}"
    return TITLES[document.kind]


def write_ins(patient: PatientIdentity) -> bool:
    """Whether the matricule may be written: only for a qualified identity (the fault writes it anyway)."""
    if patient.qualified:
        return True
    return bool(patient.ins_matricule and patient.ins_oid) and faults.active(FAULT_INS_NOT_QUALIFIED.name)


def _record_target(root: etree._Element, document: CdaDocument) -> None:
    patient = document.patient
    role = sub(sub(root, "recordTarget"), "patientRole")
    if write_ins(patient):
        sub(role, "id", root=patient.ins_oid, extension=patient.ins_matricule)
    sub(role, "id", root=patient_local_root(document.custodian_oid), extension=patient.local_id)
    person = sub(role, "patient", classCode="PSN")
    name = sub(person, "name")
    br = {} if write_ins(patient) and faults.active(FAULT_NO_BR.name) else {"qualifier": "BR"}
    sub(name, "family", patient.nom_naissance, **br)
    sub(name, "given", " ".join(patient.prenoms))
    sub(name, "given", patient.prenoms[0], **br)
    sub(
        person,
        "administrativeGenderCode",
        code=patient.sexe,
        displayName=SEX.get(patient.sexe, patient.sexe),
        codeSystem="2.16.840.1.113883.5.1",
    )
    sub(person, "birthTime", value=ts(patient.date_naissance))
    if patient.lieu_naissance:
        addr = sub(sub(sub(person, "birthplace"), "place"), "addr")
        sub(addr, "county", patient.lieu_naissance)


def _addr(parent: etree._Element, address: Address) -> None:
    if not (address.street or address.postal_code or address.city):
        sub(parent, "addr", nullFlavor="UNK")
        return
    addr = sub(parent, "addr")
    if address.street:
        sub(addr, "streetName", address.street)
    if address.postal_code:
        sub(addr, "postalCode", address.postal_code)
    if address.city:
        sub(addr, "city", address.city)


def _org_id(parent: etree._Element, organisation: Organisation) -> None:
    if organisation.finess:
        sub(parent, "id", root=FINESS_ROOT, extension=f"1{organisation.finess}")


def _organisation(parent: etree._Element, tag: str, organisation: Organisation) -> None:
    element = sub(parent, tag)
    _org_id(element, organisation)
    sub(element, "name", organisation.name)
    if organisation.telecom:
        sub(element, "telecom", value=organisation.telecom, use="WP")
    _addr(element, organisation.address)
    sub(
        element,
        "standardIndustryClassCode",
        code="ETABLISSEMENT",
        displayName="Etablissement de santé",
        codeSystem="1.2.250.1.213.1.1.4.9",
    )


def _person_id(parent: etree._Element, professional: Professional) -> None:
    if professional.rpps:
        sub(parent, "id", root=RPPS_ROOT, extension=f"8{professional.rpps}")
    else:
        sub(parent, "id", nullFlavor="UNK")


def _person_name(parent: etree._Element, tag: str, professional: Professional) -> None:
    name = sub(sub(parent, tag), "name")
    sub(name, "given", professional.given)
    sub(name, "family", professional.family)


def _specialty(parent: etree._Element, professional: Professional) -> None:
    sub(
        parent,
        "code",
        code=professional.specialty_code,
        displayName=professional.specialty_label,
        codeSystem="1.2.250.1.213.1.1.4.5",
    )


def assigned_entity(parent: etree._Element, professional: Professional, tag: str = "assignedEntity") -> None:
    entity = sub(parent, tag)
    _person_id(entity, professional)
    _specialty(entity, professional)
    organisation = professional.organisation
    if organisation is not None:
        _addr(entity, organisation.address)
    if organisation is not None and organisation.telecom:
        sub(entity, "telecom", value=organisation.telecom, use="WP")
    _person_name(entity, "assignedPerson", professional)
    if organisation is not None:
        _organisation(entity, "representedOrganization", organisation)


def _author(root: etree._Element, document: CdaDocument) -> None:
    author = sub(root, "author")
    sub(author, "time", value=ts(document.effective_time))
    assigned_entity(author, document.author, "assignedAuthor")


def _custodian(root: etree._Element, document: CdaDocument) -> None:
    """This DCC keeps the document. Structuration minimale wants a national structure id (``1``+FINESS, root
    1.2.250.1.71.4.2.2): the structure operating the DCC (``DCC_CUSTODIAN_FINESS``)."""
    assigned = sub(sub(root, "custodian"), "assignedCustodian")
    organisation = sub(assigned, "representedCustodianOrganization")
    _org_id(organisation, document.custodian)
    sub(organisation, "name", document.custodian.name)
    if document.custodian.telecom:
        sub(organisation, "telecom", value=document.custodian.telecom, use="WP")
    _addr(organisation, document.custodian.address)


def _information_recipient(root: etree._Element, professional: Professional) -> None:
    intended = sub(sub(root, "informationRecipient"), "intendedRecipient")
    if professional.rpps:  # a recipient id is an RPPS or nothing (no nullFlavor id here)
        _person_id(intended, professional)
    if professional.mssante:
        sub(intended, "telecom", value=f"mailto:{professional.mssante}")
    _person_name(intended, "informationRecipient", professional)
    if professional.organisation is not None:
        organisation = sub(intended, "receivedOrganization")
        _org_id(organisation, professional.organisation)
        sub(organisation, "name", professional.organisation.name)


def _legal_authenticator(root: etree._Element, document: CdaDocument) -> None:
    legal = sub(root, "legalAuthenticator")
    sub(legal, "time", value=ts(document.effective_time))
    sub(legal, "signatureCode", code="S")
    assigned_entity(legal, document.legal_authenticator)


def _frcp_participants(root: etree._Element, document: CdaDocument) -> None:
    """The RCP coordinator (RESP) and the médecin traitant slot (INF/PCP, nullFlavor when unknown)."""
    participant = sub(root, "participant", typeCode="RESP")
    function = sub(participant, "functionCode", nullFlavor="NA")
    sub(function, "originalText", "Coordonnateur de la RCP")
    sub(participant, "time", nullFlavor="UNK")
    entity = sub(participant, "associatedEntity", classCode="PROV")
    professional = document.legal_authenticator
    _person_id(entity, professional)
    _specialty(entity, professional)
    _person_name(entity, "associatedPerson", professional)


def _documentation_of(root: etree._Element, document: CdaDocument) -> None:
    event = sub(sub(root, "documentationOf"), "serviceEvent", classCode="ACT")
    when = document.effective_time
    if document.kind == "FRCP":
        code = sub(
            event,
            "code",
            code="39",
            displayName="Réunion de Concertation Pluridisciplinaire (RCP)",
            codeSystem="1.2.250.1.213.3.3.13",
        )
        if document.rcp is not None:
            sub(code, "originalText", document.rcp.name)
            when = document.rcp.date
    sub(sub(event, "effectiveTime"), "low", value=ts(when))
    assigned_entity(sub(event, "performer", typeCode="PRF"), document.author)


def _component_of(root: etree._Element, document: CdaDocument) -> None:
    encounter = sub(sub(root, "componentOf"), "encompassingEncounter")
    rcp = document.rcp if document.kind == "FRCP" else None
    if rcp is not None:
        sub(encounter, "id", root="1.2.250.1.161.1.20.1.1", extension=rcp.rrc_id)
        sub(encounter, "id", root="1.2.250.1.161.1.20.2.1", extension=rcp.manager_id)
        sub(encounter, "id", root="1.2.250.1.161.1.20.3.1", extension=rcp.rcp_id)
        if rcp.session_id:
            sub(encounter, "id", root="1.2.250.1.213.1.1.9", extension=rcp.session_id)
        sub(
            encounter,
            "code",
            code="VR",
            displayName="Virtuelle (exemple : RCP en l'absence du patient)",
            codeSystem="2.16.840.1.113883.5.4",
        )
        sub(sub(encounter, "effectiveTime"), "low", value=ts(rcp.date))
    else:
        sub(sub(encounter, "effectiveTime"), "low", value=ts(document.effective_time))
    facility_org = rcp.facility if rcp is not None else document.custodian
    facility = sub(sub(encounter, "location"), "healthCareFacility")
    _org_id(facility, facility_org)
    sub(
        facility,
        "code",
        code="SA01",
        displayName="Etablissement public de santé",
        codeSystem="1.2.250.1.71.4.2.4",
    )
    if document.kind == "FRCP":
        location = sub(facility, "location")
        sub(location, "name", facility_org.name)
        _addr(location, facility_org.address)


def ins_oid_label(oid: str | None) -> str:
    return INS_OIDS.get(oid or "", "")
