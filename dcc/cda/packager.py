"""The outbox's packager (``dcc.transmissions.packaging.DocumentPackager``) backed by the real CDA production: each
Figure 10 format part is built from the stored document — ``n3`` the CDA R2 N3, ``n3pdf`` the N3 carrying its PDF
copy, ``n1`` the N1 (XDS-SD, PDF in the nonXMLBody), ``pdf`` the PDF/A-1 itself. The PDF is rendered
once per package and shared by the parts, so every file of one message shows the same document."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from dcc import faults
from dcc.cda.builder import CdaBuildError, build
from dcc.cda.fromdb import from_document
from dcc.db.models import Document
from dcc.render.pdf import render
from dcc.transmissions.packaging import PackagedFile, PackagingError

ORDER = {"n3": 0, "n3pdf": 0, "n1": 1, "pdf": 2}
# The formats only the DMP receives (Figure 10: « CDA R2 N3 » and « CDA R2 N3 avec PDF intégré » alone).
DMP_FORMATS = frozenset({"n3", "n3pdf"})

FAULT_DMP_WITHOUT_ATTACHMENTS = faults.register(
    "dmp_cda_without_attachments",
    "the CDA R2 N3 filed in the DMP is built from the form alone: the documents joined to it (side effects…) "
    "travel by MSSanté only",
    breaks=["BDT.03"],
)


class CdaPackager:
    def package(
        self, session: Session, document: Document, format: str, *, document_id: str | None = None
    ) -> list[PackagedFile]:
        parts = format.split("+")
        unknown = [p for p in parts if p not in ORDER]
        if unknown:
            raise PackagingError(f"format {format!r}: unknown part(s) {', '.join(unknown)}")
        data = from_document(session, document)
        if data.attachments and format in DMP_FORMATS and faults.active(FAULT_DMP_WITHOUT_ATTACHMENTS.name):
            data = replace(data, attachments=())
        if document_id is not None:  # a DMP replacement carries a new id for the same set
            root, _, extension = document_id.rpartition("^")
            data = replace(data, id_root=root or data.id_root, id_extension=extension)
        # the PDF (the slow part) only when a part carries it: an FRCP's plain N3 does not
        needs_pdf = any(p != "n3" for p in parts) or document.kind == "PPS"
        pdf = render(data) if needs_pdf else None  # rendered once per identical page (dcc.render.pdf)
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
