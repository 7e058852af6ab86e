"""Reads a CI-SIS CR-GM (compte rendu de génétique moléculaire, CDA R2 N3) for reuse in a new FRCP (cas 2 of 2.1.2.1).

Why it is strict: the document comes from outside (another professional's system, an attachment). It is parsed
with entities and the network off and a size bound, a DOCTYPE is refused outright, and each problem names the
XPath of what was expected, so the sender can fix their document. What we read is only what reuse needs: the
header identifiers, the patient's INS and the narrative of the section « Conclusion / interprétation »
(FR-Conclusion-diagnostic, LOINC 22637-3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

NS = {"hl7": "urn:hl7-org:v3"}
CRGM_CODE = "51969-4"  # LOINC « CR de génétique moléculaire » (ClinicalDocument/code)
CONCLUSION_CODE = "22637-3"  # LOINC « Conclusion - Diagnostic »
CONCLUSION_TEMPLATE = "1.2.250.1.213.1.1.2.169"  # CI-SIS FR-Conclusion-diagnostic
INS_ROOTS = {  # the INS OIDs (NIR, NIA, and their test roots)
    "1.2.250.1.213.1.4.8",
    "1.2.250.1.213.1.4.9",
    "1.2.250.1.213.1.4.10",
    "1.2.250.1.213.1.4.11",
}
MAX_BYTES = 20 * 1024 * 1024

X_ROOT = "/hl7:ClinicalDocument"
X_CODE = f"{X_ROOT}/hl7:code/@code"
X_ID = f"{X_ROOT}/hl7:id"
X_SET_ID = f"{X_ROOT}/hl7:setId"
X_VERSION = f"{X_ROOT}/hl7:versionNumber/@value"
X_TIME = f"{X_ROOT}/hl7:effectiveTime/@value"
X_PATIENT_IDS = f"{X_ROOT}/hl7:recordTarget/hl7:patientRole/hl7:id"
X_CONCLUSION = (
    f"{X_ROOT}/hl7:component/hl7:structuredBody//hl7:section"
    f"[hl7:code/@code='{CONCLUSION_CODE}' or hl7:templateId/@root='{CONCLUSION_TEMPLATE}']"
)


class CdaInputError(ValueError):
    """A received document we cannot use; ``reason`` is a stable code and ``xpath`` names the place."""

    def __init__(self, reason: str, xpath: str, message: str) -> None:
        super().__init__(f"{xpath}: {message}")
        self.reason = reason
        self.xpath = xpath


@dataclass(frozen=True)
class CrgmConclusion:
    document_id: str  # root^extension, or root when there is no extension (as the CDA writes it)
    set_id: str | None
    version: int | None
    effective_time: str | None
    patient_ins: str | None  # the INS matricule of recordTarget, when the document carries one
    conclusion: str  # the narrative of the conclusion section, one line per list item

    def extracted(self) -> dict[str, str]:
        return {"conclusion_moleculaire": self.conclusion}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
    )


def _identifier(element: etree._Element | None) -> str | None:
    if element is None or not element.get("root"):
        return None
    root, extension = element.get("root"), element.get("extension")
    return f"{root}^{extension}" if extension else root


def _lines(section: etree._Element) -> list[str]:
    text = section.find("hl7:text", NS)
    if text is None:
        return []
    items = text.findall(".//hl7:item", NS)
    blocks = items or [text]
    lines = [re.sub(r"\s+", " ", "".join(block.itertext())).strip() for block in blocks]
    return [line for line in lines if line]


def parse_crgm(data: bytes, source: str = "CR-GM") -> CrgmConclusion:
    """The parts of a CR-GM that reuse needs; ``CdaInputError`` names the XPath of the first problem."""
    if len(data) > MAX_BYTES:
        raise CdaInputError("too_large", "/", f"{source}: {len(data)} bytes, more than {MAX_BYTES}")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        line = getattr(error, "lineno", None)
        raise CdaInputError(
            "not_xml", f"/ (line {line})", f"{source}: not well-formed XML: {error.msg}"
        ) from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise CdaInputError("doctype_refused", "/", f"{source}: a DOCTYPE is not accepted in a CDA document")
    if root.tag != "{urn:hl7-org:v3}ClinicalDocument":
        raise CdaInputError(
            "not_cda", X_ROOT, f"{source}: the root element is {root.tag}, not a CDA ClinicalDocument"
        )
    code = root.xpath(X_CODE, namespaces=NS)
    if code != [CRGM_CODE]:
        raise CdaInputError(
            "not_crgm", X_CODE, f"{source}: {code[0] if code else 'no code'}, expected {CRGM_CODE} (CR-GM)"
        )
    document_id = _identifier(root.find("hl7:id", NS))
    if document_id is None:
        raise CdaInputError("no_id", X_ID, f"{source}: the document has no id/@root")
    version_text = root.xpath(X_VERSION, namespaces=NS)
    version = None
    if version_text:
        if not version_text[0].isdigit():
            raise CdaInputError(
                "bad_version", X_VERSION, f"{source}: {version_text[0]!r} is not a version number"
            )
        version = int(version_text[0])
    ins = [
        element.get("extension")
        for element in root.xpath(X_PATIENT_IDS, namespaces=NS)
        if element.get("root") in INS_ROOTS and element.get("extension")
    ]
    sections = root.xpath(X_CONCLUSION, namespaces=NS)
    if not sections:
        raise CdaInputError("no_conclusion", X_CONCLUSION, f"{source}: no conclusion section")
    lines = _lines(sections[0])
    if not lines:
        raise CdaInputError(
            "empty_conclusion", f"{X_CONCLUSION}/hl7:text", f"{source}: the conclusion is empty"
        )
    time = root.xpath(X_TIME, namespaces=NS)
    return CrgmConclusion(
        document_id=document_id,
        set_id=_identifier(root.find("hl7:setId", NS)),
        version=version,
        effective_time=time[0] if time else None,
        patient_ins=ins[0] if ins else None,
        conclusion="\n".join(lines),
    )
