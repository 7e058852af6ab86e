"""Test-driver operation of the renderings: a stored FRCP or PPS as CDA N3/N1, PDF or HTML (cahier des charges
2.3.3, 2.3.6), with its ``document.rendered`` event. ``artifact`` is the bundle-relative name the harness will store
the returned bytes under: the DCC names it in the event so that the rules' proofs (XPath on the CDA) find it."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sqlalchemy.orm import Session

from dcc.driver import operation
from dcc.services import rendering


@operation("render_document", "POST", "/driver/documents/{document_id}/renderings")
def render_document(
    session: Session, document_id: str, format: str, artifact: str | None = None
) -> dict[str, Any]:
    """Render a document in ``format`` (cda_n3, cda_n1, pdf, html)."""
    from dcc.driver import Driver

    document = Driver._document(session, document_id)
    output = rendering.render(session, document, format, artifact_name=artifact)
    return {
        "document_id": document_id,
        "format": format,
        "sha256": hashlib.sha256(output).hexdigest(),
        "content_base64": base64.b64encode(output).decode("ascii"),
    }
