"""Reading back a CDA the DCC produced: the facts the rules judge (CDA.04–06, PRES.02, RGPD.03), taken from the
bytes that leave the DCC rather than from the data they were made of, so a wrong document shows in the trace."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

from dcc.cda.body import PDF_COPY_TEMPLATE, STATUS_BY_CODE
from dcc.cda.model import INS_OIDS
from dcc.rgpd import HEADING

NS = {"hl7": "urn:hl7-org:v3"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class CdaFacts:
    document_id: str | None
    status: str | None  # from the FR-Statut-du-document section
    rplc_parent: str | None  # root^extension of relatedDocument[@typeCode='RPLC']/parentDocument/id
    ins_oid: str | None
    ins_matricule: str | None
    has_pdf_copy: bool
    rgpd_text1_sha256: str | None


def _ii(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    root, extension = element.get("root"), element.get("extension")
    return f"{root}^{extension}" if extension else root


def facts(cda: bytes) -> CdaFacts:
    root = etree.fromstring(cda, PARSER)
    status_code = root.xpath(
        "string(//hl7:section[hl7:templateId/@root='1.2.250.1.213.1.1.2.35']"
        "//hl7:observation[hl7:code/@code='GEN-065']/hl7:value/@code)",
        namespaces=NS,
    )
    ins = [
        i
        for i in root.xpath("hl7:recordTarget/hl7:patientRole/hl7:id", namespaces=NS)
        if i.get("root") in INS_OIDS
    ]
    pdf = root.xpath(
        f"//hl7:section[hl7:templateId/@root='{PDF_COPY_TEMPLATE}']//hl7:observationMedia/"
        "hl7:value[@mediaType='application/pdf' and @representation='B64']",
        namespaces=NS,
    )
    rgpd = root.xpath(f"//hl7:section[hl7:title='{HEADING}']/hl7:text/hl7:paragraph[1]", namespaces=NS)
    text_1 = "".join(rgpd[0].itertext()) if rgpd else None
    return CdaFacts(
        document_id=_ii(root.find("hl7:id", NS)),
        status=STATUS_BY_CODE.get(status_code),
        rplc_parent=_ii(root.find("hl7:relatedDocument[@typeCode='RPLC']/hl7:parentDocument/hl7:id", NS)),
        ins_oid=ins[0].get("root") if ins else None,
        ins_matricule=ins[0].get("extension") if ins else None,
        has_pdf_copy=bool(pdf and len("".join(pdf[0].itertext()).strip()) > 100),
        rgpd_text1_sha256=hashlib.sha256(text_1.encode("utf-8")).hexdigest() if text_1 else None,
    )
