"""IHE XDM zip (ITI-32 media): build one for a CDA document, and read one back safely.

Shared by the MSSanté, peer DCC and hospital-record simulators (NATIONAL-SERVICES §3: an MSS mail carries
``IHE_XDM.zip`` = ``INDEX.HTM``, ``README.TXT``, ``IHE_XDM/SUBSET01/METADATA.XML`` (ebRS SubmitObjectsRequest) and
the documents). The zip arrives from the DCC under test, so it is untrusted: reading is bounded (entry count, sizes,
compression ratio, bytes actually inflated) and refuses path traversal, absolute names and duplicates, with an error
naming the entry. The reference DCC writes its own XDM code; it does not import this module.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
SUBSET = "IHE_XDM/SUBSET01/"
METADATA = SUBSET + "METADATA.XML"

# XDS DocumentEntry classification schemes (IHE ITI TF-3 4.2.5).
SCHEME_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
SCHEME_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
SCHEME_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
ID_PATIENT = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
ID_UNIQUE = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"

MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, above which an entry is treated as a zip bomb


class XdmError(ValueError):
    """An XDM zip refused; the message names the entry (or the zip) and why."""


@dataclass(frozen=True)
class XdmDocument:
    path: str  # zip path, e.g. IHE_XDM/SUBSET01/DOC0001.XML
    mime_type: str
    format_code: str | None
    type_code: str | None
    class_code: str | None
    unique_id: str | None
    patient_id: str | None
    content: bytes = field(repr=False)

    def summary(self) -> dict[str, str | None]:
        return {
            "path": self.path,
            "mime_type": self.mime_type,
            "format_code": self.format_code,
            "type_code": self.type_code,
        }


@dataclass(frozen=True)
class XdmPackage:
    documents: tuple[XdmDocument, ...]
    entries: tuple[str, ...]


@dataclass(frozen=True)
class XdmInput:
    """One document to pack: the CDA (or PDF) bytes and the XDS metadata that describe it."""

    content: bytes
    type_code: str = "34794-8"
    class_code: str = "10"
    format_code: str = "urn:asip:ci-sis:frcp:2011"
    mime_type: str = "text/xml"
    unique_id: str = ""
    patient_id: str = ""  # INS^^^&1.2.250.1.213.1.4.10&ISO
    title: str = "Document"


def _slot(parent: etree._Element, name: str, values: Iterable[str]) -> None:
    slot = etree.SubElement(parent, f"{{{RIM}}}Slot", name=name)
    holder = etree.SubElement(slot, f"{{{RIM}}}ValueList")
    for value in values:
        etree.SubElement(holder, f"{{{RIM}}}Value").text = value


def _metadata(documents: list[tuple[str, XdmInput]]) -> bytes:
    root = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = etree.SubElement(root, f"{{{RIM}}}RegistryObjectList")
    for number, (path, doc) in enumerate(documents, start=1):
        entry_id = f"Document{number:02d}"
        extrinsic = etree.SubElement(
            objects,
            f"{{{RIM}}}ExtrinsicObject",
            id=entry_id,
            mimeType=doc.mime_type,
            objectType=DOCUMENT_ENTRY,
        )
        _slot(extrinsic, "URI", [path.removeprefix(SUBSET)])
        _slot(extrinsic, "size", [str(len(doc.content))])
        name = etree.SubElement(extrinsic, f"{{{RIM}}}Name")
        etree.SubElement(name, f"{{{RIM}}}LocalizedString", value=doc.title)
        for scheme, code in (
            (SCHEME_CLASS, doc.class_code),
            (SCHEME_TYPE, doc.type_code),
            (SCHEME_FORMAT, doc.format_code),
        ):
            etree.SubElement(
                extrinsic,
                f"{{{RIM}}}Classification",
                classificationScheme=scheme,
                classifiedObject=entry_id,
                nodeRepresentation=code,
                id=f"{entry_id}-{scheme[-4:]}",
            )
        for scheme, value in ((ID_PATIENT, doc.patient_id), (ID_UNIQUE, doc.unique_id)):
            etree.SubElement(
                extrinsic,
                f"{{{RIM}}}ExternalIdentifier",
                identificationScheme=scheme,
                registryObject=entry_id,
                value=value,
                id=f"{entry_id}-{scheme[-4:]}",
            )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_xdm(documents: Iterable[XdmInput]) -> bytes:
    """A deterministic XDM zip (fixed timestamps, fixed order) holding the given documents."""
    docs = list(documents)
    placed = [
        (f"{SUBSET}DOC{n:04d}.{'PDF' if d.mime_type == 'application/pdf' else 'XML'}", d)
        for n, d in enumerate(docs, start=1)
    ]
    index = (
        "<html><body><h1>IHE XDM</h1><ul>"
        + "".join(f'<li><a href="{p}">{d.title}</a></li>' for p, d in placed)
        + "</ul></body></html>\n"
    )
    readme = "IHE XDM media produced by dcc-recette simulators.\r\nContents: IHE_XDM/SUBSET01/\r\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [
            ("INDEX.HTM", index.encode()),
            ("README.TXT", readme.encode()),
            (METADATA, _metadata(placed)),
            *((p, d.content) for p, d in placed),
        ]:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts or "\x00" in name:
        raise XdmError(f"zip entry {name!r}: unsafe path (absolute or traversal)")


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """Inflates at most ``budget`` bytes, whatever the header claims (headers of a hostile zip can lie)."""
    limit = min(MAX_ENTRY_BYTES, budget)
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise XdmError(f"zip entry {info.filename!r}: larger than {limit} bytes once inflated")
    if info.compress_size and len(data) > MAX_RATIO * max(info.compress_size, 1024):
        raise XdmError(f"zip entry {info.filename!r}: compression ratio above {MAX_RATIO} (zip bomb)")
    return data


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def parse_xdm(data: bytes) -> XdmPackage:
    """Reads an XDM zip; raises :class:`XdmError` naming the entry for anything unsafe or missing."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (
        zipfile.BadZipFile,
        ValueError,
        OSError,
        EOFError,
        KeyError,
        zlib.error,
        NotImplementedError,
    ) as error:
        raise XdmError(f"IHE_XDM.zip: not a zip file ({error})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise XdmError(f"IHE_XDM.zip: {len(infos)} entries, more than {MAX_ENTRIES}")
        seen: set[str] = set()
        declared = 0
        for info in infos:
            _check_name(info.filename)
            if info.filename in seen:
                raise XdmError(f"zip entry {info.filename!r}: duplicate name")
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise XdmError(f"zip entry {info.filename!r}: encrypted")
            declared += info.file_size
            if info.file_size > MAX_ENTRY_BYTES or declared > MAX_TOTAL_BYTES:
                raise XdmError(f"zip entry {info.filename!r}: declared size beyond the limit (zip bomb)")
            if info.compress_size and info.file_size > MAX_RATIO * max(info.compress_size, 1024):
                raise XdmError(f"zip entry {info.filename!r}: compression ratio above {MAX_RATIO} (zip bomb)")
        for required in ("INDEX.HTM", "README.TXT", METADATA):
            if required not in seen:
                raise XdmError(f"IHE_XDM.zip: missing {required}")
        budget = MAX_TOTAL_BYTES
        contents: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            try:
                contents[info.filename] = _read_bounded(archive, info, budget)
            except XdmError:
                raise
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
                NotImplementedError,
                zlib.error,
                ValueError,
                KeyError,
            ) as error:
                raise XdmError(f"zip entry {info.filename!r}: unreadable ({error})") from None
            budget -= len(contents[info.filename])
    try:
        root = etree.fromstring(contents[METADATA], _parser())
    except etree.XMLSyntaxError as error:
        raise XdmError(f"{METADATA}: not well-formed XML ({error})") from None
    documents = []
    for extrinsic in root.iter(f"{{{RIM}}}ExtrinsicObject"):
        where = f"{METADATA}: ExtrinsicObject[@id={extrinsic.get('id')!r}]"
        uri = extrinsic.findtext(f"{{{RIM}}}Slot[@name='URI']/{{{RIM}}}ValueList/{{{RIM}}}Value")
        if not uri:
            raise XdmError(f"{where}: no URI slot")
        path = SUBSET + uri
        _check_name(uri)
        if path not in contents:
            raise XdmError(f"{where}: URI {uri!r} names no entry of the zip")

        def code(scheme: str, element: etree._Element = extrinsic) -> str | None:
            found = element.find(f"{{{RIM}}}Classification[@classificationScheme='{scheme}']")
            return None if found is None else found.get("nodeRepresentation")

        def ident(scheme: str, element: etree._Element = extrinsic) -> str | None:
            found = element.find(f"{{{RIM}}}ExternalIdentifier[@identificationScheme='{scheme}']")
            return None if found is None else found.get("value")

        documents.append(
            XdmDocument(
                path=path,
                mime_type=extrinsic.get("mimeType", ""),
                format_code=code(SCHEME_FORMAT),
                type_code=code(SCHEME_TYPE),
                class_code=code(SCHEME_CLASS),
                unique_id=ident(ID_UNIQUE),
                patient_id=ident(ID_PATIENT),
                content=contents[path],
            )
        )
    if not documents:
        raise XdmError(f"{METADATA}: no ExtrinsicObject (no document)")
    return XdmPackage(documents=tuple(documents), entries=tuple(sorted(seen)))
