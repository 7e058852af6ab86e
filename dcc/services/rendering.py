"""Rendering a stored FRCP or PPS in one format, with the ``document.rendered`` event the CDA, PRES, INS, RGPD,
RCP and REPR rules read (docs/trace-events.md). The event's facts are read back from the produced bytes
(``dcc.cda.inspect``, ``dcc.render.pdfcheck``), so a wrong output shows in the trace rather than being assumed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dcc import events, identifiers
from dcc.cda import build, from_document
from dcc.cda.inspect import facts
from dcc.cda.model import CareItem, CdaDocument
from dcc.db.models import Document
from dcc.render import datamatrix, pdfcheck
from dcc.render import html as html_render
from dcc.render import pdf as pdf_render
from dcc.services import reuse
from dcc.services.documents import describe

FORMATS = ("cda_n3", "cda_n1", "pdf", "html")
SUFFIX = {"cda_n3": ".xml", "cda_n1": ".xml", "pdf": ".pdf", "html": ".html"}


class RenderingError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _expected_datamatrix(data: CdaDocument) -> tuple[int, int, bytes] | None:
    """The symbol the PDF must carry: encoded from the INS *as the CDA header writes it* (none without INS)."""
    header = facts(build(replace(data, pdf=b"-" * 128), "N3"))
    if not header.ins_matricule:
        return None
    patient = replace(data.patient, ins_matricule=header.ins_matricule, ins_oid=header.ins_oid)
    return datamatrix.pixels(datamatrix.payload(patient))


def _merge(own: pdf_render.Syntheses, built: reuse.Syntheses) -> pdf_render.Syntheses:
    """The syntheses of the PDF: realised care of this PPS's lists (``traitements``, ``soins_support``) and the
    confirmed past care ``reuse.build_syntheses`` found in the patient's PPS (``soins_realises``/``soins_prevus``)."""

    def items(found: list[reuse.CareItem]) -> tuple[CareItem, ...]:
        return tuple(CareItem(label=i.libelle, start=i.date, end=i.date, confirmed=i.confirme) for i in found)

    return pdf_render.Syntheses(
        own.treatments + items(built.treatments),
        own.supportive_care + items(built.supportive_care),
        own.future_items + built.future_items,
    )


def _rcp_fields(data: CdaDocument) -> dict[str, Any]:
    if data.kind != "FRCP" or data.rcp is None:
        return {}
    fields: dict[str, Any] = {"rcp_id": f"1.2.250.1.161.1.20.3.1^{data.rcp.rcp_id}"}
    if data.rcp.session_id:
        fields["session_id"] = data.rcp.session_id
    if data.rcp.quorum_code is not None:  # as the RCP directory recorded it (rcp.quorum_recorded)
        fields["quorum"] = data.rcp.quorum_code
    elif data.rcp.quorum is not None:
        fields["quorum"] = data.rcp.quorum
    return fields


def render(
    session: Session,
    document: Document,
    format: str,
    path: str | Path | None = None,
    stylesheet: str | Path | None = None,
    artifact_name: str | None = None,
) -> bytes:
    """The document in ``format`` (cda_n3, cda_n1, pdf, html); written to ``path`` when given (then named in
    the event's artifacts), or named ``artifact_name`` in the event when the caller stores it (the recette)."""
    if format not in FORMATS:
        raise RenderingError("unknown_format", f"format {format!r}: one of {', '.join(FORMATS)}")
    data = from_document(session, document)
    fields: dict[str, Any] = {**describe(session, document), "format": format, **_rcp_fields(data)}
    if document.finess:
        fields["finess"] = document.finess
    built = None
    synth = None
    if data.kind == "PPS" and format in ("pdf", "html"):
        built = reuse.build_syntheses(session, document)  # REPR.06: rebuilt for every rendering
        synth = _merge(pdf_render.syntheses(data), built)
    if format == "html":
        output = html_render.render(build(data, "N3"), stylesheet).encode("utf-8")
    else:
        pdf = pdf_render.render(data, synth)
        if format == "pdf":
            output = pdf
            checked = pdfcheck.inspect(pdf, _expected_datamatrix(data))
            fields.update(
                pages=checked.pages,
                pages_with_datamatrix=checked.pages_with_datamatrix,
                pages_without_datamatrix=checked.pages_without_datamatrix,
                datamatrix_matches_header=checked.pages_with_datamatrix == checked.pages,
                pdfa_part=checked.pdfa_part,
                pdfa_conformance=checked.pdfa_conformance,
            )
        else:
            output = build(replace(data, pdf=pdf), "N3" if format == "cda_n3" else "N1")
            read = facts(output)
            fields.update(
                level="N3" if format == "cda_n3" else "N1",
                ins_in_header=read.ins_matricule is not None,
                status_section_matches=read.status == document.status,
                rplc_parent_is_previous=(
                    read.rplc_parent == identifiers.document_id(session.get(Document, document.replaces_id))
                    if document.replaces_id is not None
                    else None
                ),
                pdf_copy=read.has_pdf_copy,
                rgpd_text1_sha256=read.rgpd_text1_sha256,
            )
    if synth is not None:
        fields["future_items_in_syntheses"] = synth.future_items
    artifacts = [artifact_name] if artifact_name else None
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output)
        artifacts = [str(target)]
    events.emit(session, "document.rendered", artifacts=artifacts, **fields)
    if built is not None:  # after the rendering it belongs to (REPR.06 reads it within two events)
        built.record(session)
    return output
