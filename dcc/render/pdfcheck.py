"""What a produced PDF really carries, read back with pypdf (no datamatrix decoder in the DCC): page count, the
PDF/A identification of its XMP metadata, and on which pages the INS datamatrix is drawn — an image whose grey
samples are exactly those of the symbol encoded from the INS of the CDA header, and which the page's content
stream paints (``/Name Do``)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader

PDFAID = "http://www.aiim.org/pdfa/ns/id/"


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    pages_with_datamatrix: int
    pdfa_part: str | None
    pdfa_conformance: str | None

    @property
    def pages_without_datamatrix(self) -> int:
        return self.pages - self.pages_with_datamatrix


def _xmp(reader: PdfReader, name: str) -> str | None:
    xmp = reader.xmp_metadata
    if xmp is None:
        return None
    for description in xmp.rdf_root.getElementsByTagNameNS(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description"
    ):
        value = description.getAttributeNS(PDFAID, name)
        if value:
            return value
        for node in description.getElementsByTagNameNS(PDFAID, name):
            if node.firstChild is not None:
                return node.firstChild.nodeValue
    return None


def _page_has(page, expected: tuple[int, int, bytes]) -> bool:
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if not xobjects:
        return False
    contents = page.get_contents()
    stream = contents.get_data() if contents is not None else b""
    width, height, samples = expected
    for name, ref in xobjects.get_object().items():
        image = ref.get_object()
        if (
            image.get("/Subtype") != "/Image"
            or image.get("/Width") != width
            or image.get("/Height") != height
        ):
            continue
        if f"{name} Do".encode() in stream and image.get_data() == samples:
            return True
    return False


def inspect(pdf: bytes, expected: tuple[int, int, bytes] | None) -> PdfFacts:
    """``expected``: ``datamatrix.pixels(payload)`` for the header INS, or None when there is no INS."""
    reader = PdfReader(io.BytesIO(pdf))
    with_dm = 0 if expected is None else sum(1 for page in reader.pages if _page_has(page, expected))
    return PdfFacts(len(reader.pages), with_dm, _xmp(reader, "part"), _xmp(reader, "conformance"))
