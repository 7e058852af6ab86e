"""ebRIM / XDS.b metadata for the DMP simulator: what a provide-and-register says, and the registry answers."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from lxml import etree

SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS = {
    "soap": SOAP,
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "xds": "urn:ihe:iti:xds-b:2007",
    "xop": "http://www.w3.org/2004/08/xop/include",
    "hl7": "urn:hl7-org:v3",
}
SCHEME = {
    "type_code": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "class_code": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "format_code": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "confidentiality": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "unique_id": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
    "patient_id": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
}
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
INS_OIDS = {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
STATUS_CODES = {"385651009": "en_cours", "398166005": "complete", "9571008": "valide", "29179001": "cloture"}


class MetadataError(ValueError):
    """Metadata the registry rejects: ``code`` is the XDS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Entry:
    entry_id: str
    unique_id: str
    patient_id: str
    type_code: str
    class_code: str
    format_code: str
    confidentiality_codes: list[str]
    mime_type: str
    content: bytes = b""
    status: str = "Approved"
    replaces: str | None = None
    set_id: str | None = None
    document_status: str | None = None
    actor_rpps: str | None = None
    attachments: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ins(self) -> str:
        return self.patient_id.split("^", 1)[0]

    @property
    def ins_oid(self) -> str:
        parts = self.patient_id.split("&")
        return parts[1] if len(parts) > 2 else ""


def _code(element, scheme: str) -> list[str]:
    return [
        c.get("nodeRepresentation", "")
        for c in element.findall("rim:Classification", NS)
        if c.get("classificationScheme") == scheme
    ]


def _external(element, scheme: str) -> str:
    for ext in element.findall("rim:ExternalIdentifier", NS):
        if ext.get("identificationScheme") == scheme:
            return ext.get("value", "")
    return ""


PDF_COPY_SECTION = "1.2.250.1.213.1.1.2.243"


def inspect_cda(content: bytes) -> dict[str, object]:
    """setId, status section and number of attached documents, read from the CDA itself (what the DMP holds)."""
    try:
        root = etree.fromstring(content, PARSER)
    except etree.XMLSyntaxError:
        return {}
    set_id = root.find("hl7:setId", NS)
    status = root.xpath(
        "string(//hl7:section[hl7:templateId/@root='1.2.250.1.213.1.1.2.35']//hl7:value/@code)", namespaces=NS
    )
    # attached documents, not counting the document's own PDF copy (section FR-Document-PDF-copie, 2.3.6)
    attached = int(
        root.xpath(
            "count(//hl7:organizer[hl7:templateId/@root='1.2.250.1.213.1.1.3.18']"
            f"[not(ancestor::hl7:section[hl7:templateId/@root='{PDF_COPY_SECTION}'])])",
            namespaces=NS,
        )
    )
    set_root, set_extension = (
        (set_id.get("root"), set_id.get("extension")) if set_id is not None else (None, None)
    )
    return {
        # an II without extension is its root alone (as the CDA wrote it), else root^extension
        "set_id": None if set_root is None else f"{set_root}^{set_extension}" if set_extension else set_root,
        "document_status": STATUS_CODES.get(status),
        "attachments": attached,
    }


def parse_provide_and_register(
    root, attachments: dict[str, bytes]
) -> tuple[list[Entry], list[tuple[str, str, str]]]:
    request = root.find("soap:Body/xds:ProvideAndRegisterDocumentSetRequest", NS)
    submit = request.find("lcm:SubmitObjectsRequest", NS) if request is not None else None
    if submit is None:
        raise MetadataError("XDSRepositoryMetadataError", "no SubmitObjectsRequest")
    contents: dict[str, bytes] = {}
    for document in request.findall("xds:Document", NS):
        include = document.find("xop:Include", NS)
        if include is not None:
            cid = include.get("href", "").removeprefix("cid:")
            if cid not in attachments:
                raise MetadataError("XDSMissingDocument", f"MTOM part {cid} not found")
            contents[document.get("id", "")] = attachments[cid]
        else:
            try:
                contents[document.get("id", "")] = base64.b64decode(document.text or "", validate=True)
            except ValueError:
                raise MetadataError(
                    "XDSRepositoryMetadataError", "xds:Document is neither xop:Include nor base64"
                ) from None
    entries = []
    for extrinsic in submit.findall("rim:RegistryObjectList/rim:ExtrinsicObject", NS):
        entry_id = extrinsic.get("id", "")
        values = {
            k: _code(extrinsic, SCHEME[k])
            for k in ("type_code", "class_code", "format_code", "confidentiality")
        }
        unique_id, patient_id = (
            _external(extrinsic, SCHEME["unique_id"]),
            _external(extrinsic, SCHEME["patient_id"]),
        )
        missing = [k for k in ("type_code", "class_code", "format_code") if not values[k]]
        if missing or not unique_id or not patient_id or not values["confidentiality"]:
            raise MetadataError(
                "XDSRegistryMetadataError",
                f"{entry_id}: missing {', '.join(missing + [k for k, v in (('uniqueId', unique_id), ('patientId', patient_id), ('confidentialityCode', values['confidentiality'])) if not v])}",
            )
        if entry_id not in contents:
            raise MetadataError("XDSMissingDocument", f"{entry_id}: no xds:Document for this entry")
        entry = Entry(
            entry_id,
            unique_id,
            patient_id,
            values["type_code"][0],
            values["class_code"][0],
            values["format_code"][0],
            values["confidentiality"],
            extrinsic.get("mimeType", ""),
            contents[entry_id],
        )
        details = inspect_cda(entry.content) if entry.mime_type == "text/xml" else {}
        entry.set_id, entry.document_status = details.get("set_id"), details.get("document_status")
        entry.attachments = int(details.get("attachments") or 0)
        entries.append(entry)
    if not entries:
        raise MetadataError("XDSRegistryMetadataError", "no XDSDocumentEntry (ExtrinsicObject)")
    associations = [
        (a.get("associationType", ""), a.get("sourceObject", ""), a.get("targetObject", ""))
        for a in submit.findall("rim:RegistryObjectList/rim:Association", NS)
    ]
    return entries, associations


def envelope(body_xml: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Header/>'
        f"<soap:Body>{body_xml}</soap:Body></soap:Envelope>"
    ).encode()


def registry_response(errors: list[tuple[str, str]] = ()) -> str:
    if not errors:
        return f'<rs:RegistryResponse xmlns:rs="{NS["rs"]}" status="{SUCCESS}"/>'
    items = "".join(
        f'<rs:RegistryError errorCode="{code}" codeContext="{_escape(text)}" '
        f'severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/>'
        for code, text in errors
    )
    return f'<rs:RegistryResponse xmlns:rs="{NS["rs"]}" status="{FAILURE}"><rs:RegistryErrorList>{items}</rs:RegistryErrorList></rs:RegistryResponse>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def soap_fault(code: str, reason: str) -> bytes:
    return envelope(
        f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code><soap:Reason>"
        f'<soap:Text xml:lang="fr">{_escape(reason)}</soap:Text></soap:Reason></soap:Fault>'
    )


def entry_xml(entry: Entry) -> str:
    def classification(scheme: str, code: str) -> str:
        return (
            f'<rim:Classification classificationScheme="{SCHEME[scheme]}" classifiedObject="{entry.entry_id}" '
            f'nodeRepresentation="{_escape(code)}"/>'
        )

    codes = "".join(classification("confidentiality", c) for c in entry.confidentiality_codes)
    return (
        f'<rim:ExtrinsicObject id="{entry.entry_id}" mimeType="{entry.mime_type}" status="urn:oasis:names:tc:ebxml-regrep:StatusType:{entry.status}" '
        f'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
        f"{classification('type_code', entry.type_code)}{classification('class_code', entry.class_code)}"
        f"{classification('format_code', entry.format_code)}{codes}"
        f'<rim:ExternalIdentifier identificationScheme="{SCHEME["unique_id"]}" value="{_escape(entry.unique_id)}"/>'
        f'<rim:ExternalIdentifier identificationScheme="{SCHEME["patient_id"]}" value="{_escape(entry.patient_id)}"/>'
        f"</rim:ExtrinsicObject>"
    )
