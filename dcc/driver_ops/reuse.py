"""Test-driver operations of data reuse (2.1.2): keep all, part or none of a proposal; receive a CR-GM; the PPS
syntheses for a rendering."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dcc import events
from dcc.db.models_reuse import PrefillProposal
from dcc.driver import NotFound, operation
from dcc.services import documents, reuse


def _document(session: Session, document_id: str):
    from dcc.driver import Driver

    return Driver._document(session, document_id)


def _patient(session: Session, patient_id: str):
    from dcc.driver import Driver

    return Driver._patient(session, patient_id)


class ApplyIn(BaseModel):
    author: str = Field(min_length=1)
    keep: Literal["all"] | list[str]


class CrgmIn(BaseModel):
    author: str = Field(min_length=1)
    content_base64: str = Field(min_length=1)
    source: Literal["upload", "mss", "attachment", "dmp"] = "upload"


def _apply_refused(session: Session, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    row = (
        session.get(PrefillProposal, int(arguments["proposal_id"]))
        if str(arguments["proposal_id"]).isdigit()
        else None
    )
    fields: dict[str, Any] = {"operation": "apply_prefill", "proposal_id": arguments["proposal_id"]}
    if row is not None:
        fields.update(documents.describe(session, session.get(documents.Document, row.document_id)))
    return "document.modification_refused", fields


@operation("apply_prefill", "POST", "/driver/prefill-proposals/{proposal_id}/apply", ApplyIn, _apply_refused)
def apply_prefill(session: Session, proposal_id: str, author: str, keep: Any) -> dict[str, Any]:
    """Keep all, part or none of the fields a new document was offered (REPR.04)"""
    if not str(proposal_id).isdigit() or session.get(PrefillProposal, int(proposal_id)) is None:
        raise NotFound(f"no prefill proposal {proposal_id!r}")
    proposal = reuse.load(session, int(proposal_id))
    entries = reuse.apply(session, proposal, keep, author)
    return {**documents.describe(session, proposal.document), "kept": [e.field for e in entries]}


@operation(
    "receive_crgm",
    "POST",
    "/driver/patients/{patient_id}/crgm",
    CrgmIn,
    lambda _s, a: ("document.integration_refused", {"kind": "CR-GM", "patient_id": a["patient_id"]}),
)
def receive_crgm(
    session: Session, patient_id: str, author: str, content_base64: str, source: str = "upload"
) -> dict[str, Any]:
    """Receive a CR-GM (CDA R2 N3) for a patient; its conclusion is offered to the next FRCP"""
    try:
        data = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise documents.DocumentRuleError("bad_base64", "CR-GM: content is not base64") from None
    stored = reuse.integrate_crgm(session, _patient(session, patient_id), data, author, source)
    return {"document_id": stored.document_id, "kind": "CR-GM", "extracted": stored.extracted}


class SynthesesIn(BaseModel):
    as_of: date | None = None


@operation("render_syntheses", "POST", "/driver/documents/{document_id}/syntheses", SynthesesIn)
def render_syntheses(session: Session, document_id: str, as_of: date | None = None) -> dict[str, Any]:
    """Display the two syntheses of a PPS (an HTML rendering), rebuilt now from its confirmed past care"""
    document = _document(session, document_id)
    built = reuse.build_syntheses(session, document, as_of)
    fields = documents.describe(session, document)
    events.emit(
        session,
        "document.rendered",
        **fields,
        format="html",
        view="syntheses",
        future_items_in_syntheses=built.future_items,
    )
    built.record(session)
    return {
        **fields,
        "as_of": built.as_of.isoformat(),
        "treatments": [i.as_dict() for i in built.treatments],
        "supportive_care": [i.as_dict() for i in built.supportive_care],
        "future_items": built.future_items,
    }
