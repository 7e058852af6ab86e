"""IHE XDM (ITI-32) zip written by the DCC for an MSSanté mail: ``INDEX.HTM``, ``README.TXT``,
``IHE_XDM/SUBSET01/METADATA.XML`` (ebRS SubmitObjectsRequest, one ExtrinsicObject per file) and the files.
Deterministic (fixed timestamps and order), so the same document gives the same bytes on a retry."""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Sequence

from lxml import etree

from dcc.transmissions.packaging import CLASS_CODES, LABELS, TYPE_CODES, PackagedFile, format_code

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
SUBSET = "IHE_XDM/SUBSET01/"
SCHEME_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
SCHEME_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
SCHEME_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
ID_PATIENT = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
ID_UNIQUE = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"


def _metadata(
    placed: Sequence[tuple[str, PackagedFile]], kind: str, patient_id: str, unique_id: str
) -> bytes:
    root = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = etree.SubElement(root, f"{{{RIM}}}RegistryObjectList")
    for number, (path, item) in enumerate(placed, start=1):
        entry = f"Document{number:02d}"
        extrinsic = etree.SubElement(
            objects, f"{{{RIM}}}ExtrinsicObject", id=entry, mimeType=item.mime, objectType=DOCUMENT_ENTRY
        )
        for name, value in (("URI", path.removeprefix(SUBSET)), ("size", str(len(item.content)))):
            slot = etree.SubElement(extrinsic, f"{{{RIM}}}Slot", name=name)
            etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
        name = etree.SubElement(extrinsic, f"{{{RIM}}}Name")
        etree.SubElement(
            name, f"{{{RIM}}}LocalizedString", value=f"{LABELS[kind]} ({item.level or item.mime})"
        )
        for scheme, code in (
            (SCHEME_CLASS, CLASS_CODES[kind]),
            (SCHEME_TYPE, TYPE_CODES[kind]),
            (SCHEME_FORMAT, format_code(kind, item.level)),
        ):
            etree.SubElement(
                extrinsic,
                f"{{{RIM}}}Classification",
                classificationScheme=scheme,
                classifiedObject=entry,
                nodeRepresentation=code,
                id=f"{entry}-{scheme[-4:]}",
            )
        for scheme, value in ((ID_PATIENT, patient_id), (ID_UNIQUE, f"{unique_id}.{number}")):
            etree.SubElement(
                extrinsic,
                f"{{{RIM}}}ExternalIdentifier",
                identificationScheme=scheme,
                registryObject=entry,
                value=value,
                id=f"{entry}-{scheme[-4:]}",
            )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_xdm(files: Sequence[PackagedFile], kind: str, patient_id: str, unique_id: str) -> bytes:
    placed = [
        (f"{SUBSET}DOC{n:04d}.{'PDF' if f.mime == 'application/pdf' else 'XML'}", f)
        for n, f in enumerate(files, start=1)
    ]
    index = (
        "<html><body><h1>IHE XDM</h1><ul>"
        + "".join(f'<li><a href="{p}">{html.escape(f.filename)}</a></li>' for p, f in placed)
        + "</ul></body></html>\n"
    )
    readme = "IHE XDM media written by the reference DCC (dcc-recette).\r\nContents: IHE_XDM/SUBSET01/\r\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [
            ("INDEX.HTM", index.encode()),
            ("README.TXT", readme.encode()),
            (SUBSET + "METADATA.XML", _metadata(placed, kind, patient_id, unique_id)),
            *((p, f.content) for p, f in placed),
        ]
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
