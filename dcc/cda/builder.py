"""CDA R2 for an FRCP or a PPS: N3 (structured body, volet 2025.01) or N1 (XDS-SD: the PDF in a nonXMLBody).

``build`` is a pure function of a ``CdaDocument``; ``dcc.cda.fromdb`` turns stored rows into one.
"""

from __future__ import annotations

import base64

from lxml import etree

from dcc.cda.body import structured_body
from dcc.cda.header import header
from dcc.cda.model import CdaDocument
from dcc.cda.xml import Ids, sub

LEVELS = ("N3", "N1")


class CdaBuildError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def build(document: CdaDocument, level: str = "N3") -> bytes:
    """The CDA as UTF-8 bytes. N1 needs ``document.pdf`` (it *is* the document); N3 embeds it when given."""
    if level not in LEVELS:
        raise CdaBuildError("unknown_level", f"level {level!r}: one of {', '.join(LEVELS)}")
    if document.kind not in ("FRCP", "PPS"):
        raise CdaBuildError("unknown_kind", f"kind {document.kind!r}: FRCP or PPS")
    if not document.author.rpps or not document.legal_authenticator.rpps:
        raise CdaBuildError(
            "author_rpps_missing",
            "the author and the legal authenticator are identified by their RPPS (content['auteur']['rpps'] or the "
            "document's author_rpps): a CDA without it fails the CI-SIS header",
        )
    if level == "N1" and not document.pdf:
        raise CdaBuildError("no_pdf", "a CDA R2 N1 carries the document's PDF: none was given")
    if document.kind == "FRCP" and level == "N3":
        rcp = document.rcp
        if rcp is None or not (rcp.rrc_id and rcp.manager_id and rcp.rcp_id):
            raise CdaBuildError(
                "rcp_missing",
                "an FRCP names its RCP: the national ids of the RRC, the RCP manager and the RCP are required "
                "(content['rcp']: rrc_id, gestionnaire_id, rcp_id)",
            )
    ids = Ids(f"{document.id_root}^{document.id_extension}")
    root = header(document, level, ids)
    if level == "N1":
        body = sub(sub(root, "component"), "nonXMLBody")
        sub(
            body,
            "text",
            base64.b64encode(document.pdf or b"").decode("ascii"),
            mediaType="application/pdf",
            representation="B64",
        )
    else:
        structured_body(document, ids, root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
