"""The outbox's packager (``dcc.transmissions.packaging.DocumentPackager``) backed by the real CDA production: each
Figure 10 format part is built from the stored document — ``n3`` the CDA R2 N3, ``n3pdf`` the N3 carrying its PDF
copy, ``n1`` the N1 (XDS-SD, PDF in the nonXMLBody), ``pdf`` the PDF/A-1 itself. The PDF is rendered
once per package and shared by the parts, so every file of one message shows the same document."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace

from sqlalchemy.orm import Session

from dcc import faults
from dcc.cda.builder import CdaBuildError, build
from dcc.cda.fromdb import from_document
from dcc.db.models import Document
from dcc.transmissions.packaging import PackagedFile, PackagingError

ORDER = {"n3": 0, "n3pdf": 0, "n1": 1, "pdf": 2}
PDF_CACHE_SIZE = 32

_pdf_cache: OrderedDict[str, bytes] = OrderedDict()
_pdf_lock = threading.Lock()


def _pdf(data: object) -> bytes:
    """The PDF of a document's data, rendered once: a validated document goes to several recipients (each
    professional, the PDC, the patient), and rendering is the slow part of a delivery (about a second). The key is
    the whole data the PDF is made of plus the faults in force, so a changed document is rendered again."""
    from dcc.render.pdf import render

    key = hashlib.sha256(repr((data, sorted(faults.current()))).encode()).hexdigest()
    with _pdf_lock:
        if key in _pdf_cache:
            _pdf_cache.move_to_end(key)
            return _pdf_cache[key]
    pdf = render(data)  # type: ignore[arg-type]
    with _pdf_lock:
        _pdf_cache[key] = pdf
        while len(_pdf_cache) > PDF_CACHE_SIZE:
            _pdf_cache.popitem(last=False)
    return pdf


class CdaPackager:
    def package(
        self, session: Session, document: Document, format: str, *, document_id: str | None = None
    ) -> list[PackagedFile]:
        parts = format.split("+")
        unknown = [p for p in parts if p not in ORDER]
        if unknown:
            raise PackagingError(f"format {format!r}: unknown part(s) {', '.join(unknown)}")
        data = from_document(session, document)
        if document_id is not None:  # a DMP replacement carries a new id for the same set
            root, _, extension = document_id.rpartition("^")
            data = replace(data, id_root=root or data.id_root, id_extension=extension)
        pdf = _pdf(data)
        data = replace(data, pdf=pdf)
        files = []
        for part in sorted(parts, key=ORDER.__getitem__):
            if part == "pdf":
                files.append(PackagedFile(f"{document.kind}.pdf", "application/pdf", pdf, "pdf"))
                continue
            try:
                content = build(
                    data if part != "n3" or document.kind == "PPS" else replace(data, pdf=None),
                    "N1" if part == "n1" else "N3",
                )
            except CdaBuildError as error:
                raise PackagingError(f"{document.kind} {document.id} ({part}): {error}") from None
            files.append(PackagedFile(f"{document.kind}-{part}.xml", "text/xml", content, part))
        return files


def packager() -> CdaPackager:
    return CdaPackager()
