"""Reads (and, for the peer DCC, rewrites) the few CDA header fields the simulators need (NATIONAL-SERVICES §6).

The CDA comes from the DCC under test: parsed without entities, DTD or network, and every error names the XPath.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

NS = {"cda": "urn:hl7-org:v3"}
INS_OIDS = frozenset(
    {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
)
STATUS_SECTION = "1.2.250.1.213.1.1.2.35"  # FR-Statut-du-document
# jdv-statut-document-cisis (1.2.250.1.213.1.1.5.93), SNOMED CT
STATUS_CODES = {
    "385651009": "en_cours",
    "398166005": "complete",
    "9571008": "valide",
    "29179001": "cloture",
}
STATUS_DISPLAY = {
    "en_cours": "en cours d'exécution",
    "complete": "réalisé",
    "valide": "approuvé",
    "cloture": "clôturé",
}
# FR-Document-PDF-copie section, or any observationMedia carrying a PDF (NATIONAL-SERVICES §6)
PDF_COPY_XPATH = (
    "cda:component/cda:structuredBody//cda:section[cda:templateId/@root='1.2.250.1.213.1.1.2.243']"
    " | cda:component/cda:structuredBody//cda:observationMedia[cda:value/@mediaType='application/pdf']"
)
STATUS_XPATH = (
    f"/cda:ClinicalDocument/cda:component/cda:structuredBody/cda:component/cda:section"
    f"[cda:templateId/@root='{STATUS_SECTION}']/cda:entry/cda:observation/cda:value"
)


class CdaError(ValueError):
    """A CDA the simulator cannot read; the message names the XPath."""


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def parse(content: bytes) -> etree._ElementTree:
    try:
        root = etree.fromstring(content, parser())
    except etree.XMLSyntaxError as error:
        raise CdaError(f"/: not well-formed XML ({error})") from None
    if root.tag != "{urn:hl7-org:v3}ClinicalDocument":
        raise CdaError(f"/: root element is {root.tag!r}, not cda:ClinicalDocument")
    return etree.ElementTree(root)


@dataclass(frozen=True)
class CdaHeader:
    document_id: str | None  # root^extension
    set_id: str | None
    version: int | None
    type_code: str | None
    ins: str | None  # matricule when an INS OID is used
    ins_oid: str | None
    status: str | None  # en_cours, complete, valide, cloture (from the FR-Statut-du-document section)
    custodian: str | None
    level: str = "cda_n3"  # cda_n1 (nonXMLBody), cda_n3 (structuredBody), cda_n3_pdf (N3 with the PDF copy)
    family: str | None = None  # recordTarget patient family name (birth name first)
    birth_date: str | None = None  # YYYYMMDD


def _ii(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    root, ext = element.get("root"), element.get("extension")
    return f"{root}^{ext}" if ext else root


def read_header(tree: etree._ElementTree) -> CdaHeader:
    doc = tree.getroot()
    version_text = doc.xpath("string(cda:versionNumber/@value)", namespaces=NS)
    try:
        version = int(version_text) if version_text else None
    except ValueError:
        raise CdaError(f"/ClinicalDocument/versionNumber/@value: not an integer ({version_text!r})") from None
    ins = oid = None
    for ident in doc.xpath("cda:recordTarget/cda:patientRole/cda:id", namespaces=NS):
        if ident.get("root") in INS_OIDS:
            ins, oid = ident.get("extension"), ident.get("root")
            break
    status_code = doc.xpath(f"string({STATUS_XPATH}/@code)", namespaces=NS)
    custodian = doc.find(
        "cda:custodian/cda:assignedCustodian/cda:representedCustodianOrganization/cda:id", NS
    )
    if doc.find("cda:component/cda:nonXMLBody", NS) is not None:
        level = "cda_n1"
    elif doc.xpath(PDF_COPY_XPATH, namespaces=NS):
        level = "cda_n3_pdf"
    else:
        level = "cda_n3"
    patient = "cda:recordTarget/cda:patientRole/cda:patient"
    family = doc.xpath(f"string({patient}/cda:name/cda:family[@qualifier='BR'])", namespaces=NS) or doc.xpath(
        f"string({patient}/cda:name/cda:family)", namespaces=NS
    )
    birth = doc.xpath(f"string({patient}/cda:birthTime/@value)", namespaces=NS)
    return CdaHeader(
        level=level,
        family=family.strip() or None,
        birth_date=birth[:8] or None,
        document_id=_ii(doc.find("cda:id", NS)),
        set_id=_ii(doc.find("cda:setId", NS)),
        version=version,
        type_code=doc.xpath("string(cda:code/@code)", namespaces=NS) or None,
        ins=ins,
        ins_oid=oid,
        status=STATUS_CODES.get(status_code),
        custodian=_ii(custodian),
    )
