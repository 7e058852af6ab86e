"""The seam between transmissions and CDA production: the worker asks a packager for the files of one document in
one Figure 10 format and never builds CDA itself (``dcc.cda`` does; the lead wires it in ``default_packager``).

A file's ``level`` says what it is: ``n1`` CDA R2 N1 (PDF in a nonXMLBody), ``n3`` CDA R2 N3, ``n3pdf`` CDA R2 N3
with the PDF embedded, ``pdf`` the PDF/A-1 itself. XDS codes per volet (NATIONAL-SERVICES §2) are here too.
"""

from __future__ import annotations

import importlib
import os
from typing import NamedTuple, Protocol

from sqlalchemy.orm import Session

from dcc.db.models import Document

TYPE_CODES = {"FRCP": "34794-8", "PPS": "18776-5"}
CLASS_CODES = {"FRCP": "10", "PPS": "44"}
FORMAT_CODES = {"FRCP": "urn:asip:ci-sis:frcp:2011", "PPS": "urn:asip:ci-sis:pps-cancer:2017"}
PDF_FORMAT_CODE = "urn:ihe:iti:xds-sd:pdf:2008"  # CDA R2 N1 (PDF only)
LABELS = {"FRCP": "Fiche RCP", "PPS": "PPS"}


class PackagedFile(NamedTuple):
    filename: str
    mime: str
    content: bytes
    level: str = ""  # n1, n3, n3pdf, pdf


class PackagingError(ValueError):
    """The document cannot be packaged in that format (a permanent delivery failure)."""


class DocumentPackager(Protocol):
    def package(
        self, session: Session, document: Document, format: str, *, document_id: str | None = None
    ) -> list[PackagedFile]:
        """The files for ``format`` (``n1+n3+pdf``, ``n1+n3pdf``, ``n3``, ``n3pdf``, ``n1+n3pdf+pdf``); with
        ``document_id`` the CDA carries that id instead of the document's own (a DMP replacement needs a new id)."""
        ...


def format_code(kind: str, level: str) -> str:
    return PDF_FORMAT_CODE if level in ("n1", "pdf") else FORMAT_CODES[kind]


def default_packager() -> DocumentPackager:
    """The CDA producer (``dcc.cda.packager``), unless ``DCC_PACKAGER=module:callable`` names another factory
    (tests and benchmarks use the ANS examples that way)."""
    spec = os.environ.get("DCC_PACKAGER", "").strip()
    if not spec:
        from dcc.cda.packager import packager

        return packager()
    module, _, name = spec.partition(":")
    factory = getattr(importlib.import_module(module), name or "packager")
    return factory()
