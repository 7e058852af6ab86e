"""CDA R2 production of FRCP and PPS (CI-SIS volets 2025.01): N3 structured, N1 (XDS-SD) with the PDF.

``build_cda(session, document, level)`` for a stored document; ``build(CdaDocument, level)`` for plain data.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from dcc.cda.builder import LEVELS, CdaBuildError, build
from dcc.cda.fromdb import from_document
from dcc.cda.model import CdaDocument
from dcc.db.models import Document

__all__ = ["LEVELS", "CdaBuildError", "CdaDocument", "build", "build_cda", "from_document"]


def build_cda(session: Session, document: Document, level: str = "N3", pdf: bytes | None = None) -> bytes:
    """The CDA of a stored FRCP or PPS. The PDF (N1 body, N3 copy section) is rendered when not given."""
    data = from_document(session, document)
    if pdf is None:
        from dcc.render.pdf import render

        pdf = render(data)
    return build(replace(data, pdf=pdf), level)
