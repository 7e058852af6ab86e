"""Test support for the transmissions: a packager that turns the ANS example CDA files into this DCC's documents
(ids, setId, version, status section, patient identity patched), so what reaches the simulators is a real CDA;
and helpers to build patients and documents.

The lead replaces this packager by the real CDA producer (``dcc.cda``) once merged.
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

from lxml import etree
from sqlalchemy.orm import Session

from dcc import identifiers
from dcc.db.models import Document, Patient
from dcc.identity.status import IdentityStatus
from dcc.services import documents, patients
from dcc.transmissions.packaging import TYPE_CODES, PackagedFile

V3 = "urn:hl7-org:v3"
NS = {"cda": V3}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
EXAMPLES = Path(os.environ.get("DCC_CISIS_DIR", "/work/shared/ci-sis")) / "testcontenucda" / "ExemplesCDA"
TEMPLATES = {
    ("FRCP", "n3"): "CANCER-FRCP_2022.01_Transversale.xml",
    ("FRCP", "n3pdf"): "CANCER-FRCP_2022.01_Transversale.xml",
    ("PPS", "n3"): "CANCER-PPS_2025.01.xml",
    ("PPS", "n3pdf"): "CANCER-PPS_2025.01.xml",
    ("FRCP", "n1"): "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
    ("PPS", "n1"): "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
}
INS_OIDS = {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
STATUS_CODES = {"en_cours": "385651009", "complete": "398166005", "valide": "9571008", "cloture": "29179001"}
STATUS_SECTION = "1.2.250.1.213.1.1.2.35"
TEST_INS_OID = "1.2.250.1.213.1.4.10"


@functools.cache
def _template(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@functools.cache
def example_pdf() -> bytes:
    root = etree.fromstring(_template(TEMPLATES[("PPS", "n1")]))
    return base64.b64decode(root.findtext("cda:component/cda:nonXMLBody/cda:text", namespaces=NS))


def _status_section(status: str) -> etree._Element:
    xml = (
        f'<component xmlns="{V3}" xmlns:xsi="{XSI}"><section><templateId root="{STATUS_SECTION}"/>'
        '<code code="33557-4" codeSystem="2.16.840.1.113883.6.1" displayName="Statut du document"/>'
        f'<title>Statut du document</title><text>{status}</text><entry><observation classCode="OBS" '
        'moodCode="EVN"><code code="33557-4" codeSystem="2.16.840.1.113883.6.1"/><statusCode code="completed"/>'
        f'<value xsi:type="CD" code="{STATUS_CODES[status]}" codeSystem="2.16.840.1.113883.6.96"/>'
        "</observation></entry></section></component>"
    )
    return etree.fromstring(xml)


def patch(
    template: bytes, session: Session, document: Document, level: str, document_id: str | None = None
) -> bytes:
    """The ANS example rewritten as ``document``: what the DCC's CDA producer will write."""
    patient = session.get(Patient, document.patient_id)
    root = etree.fromstring(template)
    doc_id = root.find("cda:id", NS)
    own = (document_id or identifiers.document_id(document)).split("^", 1)
    doc_id.attrib.clear()
    doc_id.set("root", own[0])
    if len(own) > 1:
        doc_id.set("extension", own[1])
    code = root.find("cda:code", NS)
    code.set("code", TYPE_CODES[document.kind])
    code.set("codeSystem", "2.16.840.1.113883.6.1")
    set_id = root.find("cda:setId", NS)
    set_id.attrib.clear()
    set_id.set("root", identifiers.set_id(document))
    root.find("cda:versionNumber", NS).set("value", str(document.version))
    role = root.find("cda:recordTarget/cda:patientRole", NS)
    for ident in role.findall("cda:id", NS):
        if ident.get("root") in INS_OIDS:
            role.remove(ident)
    if patient.identity_status == "qualifiee" and patient.ins_matricule:
        ins = etree.Element(
            f"{{{V3}}}id", root=patient.ins_oid or TEST_INS_OID, extension=patient.ins_matricule
        )
        role.insert(0, ins)
    person = role.find("cda:patient", NS)
    for family in person.findall("cda:name/cda:family", NS):
        family.text = patient.nom_naissance
    for given in person.findall("cda:name/cda:given", NS):
        given.text = patient.prenoms.split()[0]
    person.find("cda:birthTime", NS).set("value", patient.date_naissance.replace("-", ""))
    for related in root.findall("cda:relatedDocument", NS):
        root.remove(related)
    if document.replaces_id is not None:
        previous = session.get(Document, document.replaces_id)
        parent_root, _, parent_ext = identifiers.document_id(previous).partition("^")
        related = etree.Element(f"{{{V3}}}relatedDocument", typeCode="RPLC")
        parent = etree.SubElement(related, f"{{{V3}}}parentDocument")
        etree.SubElement(parent, f"{{{V3}}}id", root=parent_root, extension=parent_ext)
        anchor = root.find("cda:authorization", NS) or root.find("cda:componentOf", NS)
        (anchor if anchor is not None else root.find("cda:component", NS)).addprevious(related)
    body = root.find("cda:component/cda:structuredBody", NS)
    if body is not None:
        values = body.xpath(
            f"cda:component/cda:section[cda:templateId/@root='{STATUS_SECTION}']/cda:entry/cda:observation/cda:value",
            namespaces=NS,
        )
        if values:
            values[0].set("code", STATUS_CODES[document.status])
        else:
            body.insert(0, _status_section(document.status))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class AnsExamplePackager:
    """A DocumentPackager over the ANS examples (tests and benchmarks only)."""

    def package(
        self, session: Session, document: Document, format: str, *, document_id: str | None = None
    ) -> list[PackagedFile]:
        files = []
        parts = format.split("+")
        for level in sorted(parts, key=lambda p: {"n3": 0, "n3pdf": 0, "n1": 1, "pdf": 2}[p]):
            if level == "pdf":
                files.append(PackagedFile(f"{document.kind}.pdf", "application/pdf", example_pdf(), "pdf"))
                continue
            content = patch(
                _template(TEMPLATES[(document.kind, level)]), session, document, level, document_id
            )
            files.append(PackagedFile(f"{document.kind}-{level}.xml", "text/xml", content, level))
        return files


def packager() -> AnsExamplePackager:
    return AnsExamplePackager()


def make_patient(
    session: Session, status: str = "qualifiee", matricule: str = "279035121518989", nom: str = "PAT-TROIS"
) -> Patient:
    """A patient at ``status``: provisoire, validee, qualifiee, or recuperee. ``provisoire_with_ins`` is a
    non-qualified identity whose INS is known: under the RNIV only a récupérée one holds it (docs/identity.md)."""
    traits = patients.Traits(nom, ("DOMINIQUE", "MARIE-LOUISE"), "F", "1979-03-28", "63220")
    ins = matricule if status in ("qualifiee", "recuperee", "provisoire_with_ins") else None
    patient = patients.create_patient(
        session, traits, "tester", ins_matricule=ins, ins_oid=TEST_INS_OID if ins else None
    )
    if status in ("recuperee", "provisoire_with_ins"):
        patients.change_status(
            session,
            patient,
            IdentityStatus.RECUPEREE,
            "tester",
            "INSi 00",
            ins_value=(matricule, TEST_INS_OID),
        )
    if status in ("validee", "qualifiee"):
        patients.change_status(
            session,
            patient,
            IdentityStatus.VALIDEE,
            "tester",
            "pièce d'identité",
            justificatif="carte_identite",
        )
    if status == "qualifiee":
        if not patient.ins_matricule:
            patient.ins_matricule, patient.ins_oid = matricule, TEST_INS_OID
        patients.change_status(session, patient, IdentityStatus.QUALIFIEE, "tester", "INSi")
    return patient


def make_document(
    session: Session,
    patient: Patient,
    kind: str = "FRCP",
    status: str = "complete",
    recipients: tuple[str, ...] = ("jean.martin@hopital.mssante.fr",),
) -> Document:
    """An FRCP (or a PPS with its validated FRCP) at ``status`` (not valide: validate with validate_and_route)."""
    content = {"destinataires": [{"mss": r, "source": "annuaire"} for r in recipients]}
    frcp = documents.create_frcp(session, patient, "tester", content=content)
    if kind == "FRCP":
        if status in ("complete", "valide"):
            documents.set_status(session, frcp, "complete", "tester")
        return frcp
    documents.set_status(session, frcp, "complete", "tester")
    documents.set_status(session, frcp, "valide", "tester")
    pps = documents.create_pps(session, frcp, "tester", content=content)
    if status in ("complete", "valide"):
        documents.set_status(session, pps, "complete", "tester")
    return pps
