"""Chapters CDA, PRES, and INS.09: the documents the DCC renders — CDA R2 N3 status section and RPLC,
the PPS PDF (PDF/A-1, INS datamatrix on every page, syntheses of realised care) and its copy in the PPS CDA (REPR.06 is the reuse area's)."""

from __future__ import annotations

import base64

from scenarios.context import ScenarioContext
from scenarios.data import AUTHOR, FRCP_CONTENT, journal, snapshot, traits
from scenarios.registry import scenario

INS = ("279035121518989", "1.2.250.1.213.1.4.10")
CARE = {
    "auteur": AUTHOR,
    "traitements": [
        {
            "libelle": "Chirurgie conservatrice",
            "code": "387713003",
            "debut": "2025-02-03",
            "fin": "2025-02-04",
            "confirme": True,
        },
        {"libelle": "Radiothérapie", "code": "C15313", "debut": "2099-01-05", "confirme": False},
    ],
    "soins_support": [
        {
            "libelle": "Activité physique adaptée",
            "code": "ORG-175",
            "debut": "2025-03-01",
            "fin": "2025-04-01",
            "confirme": True,
        },
        {"libelle": "Soutien psychologique", "code": "ORG-037", "debut": "2099-02-01"},
    ],
}


def _pps(ctx: ScenarioContext, qualified: bool = False, version: int = 1) -> dict:
    """A validated PPS (and, for ``version`` 2, its new version) of a fresh patient, qualified when asked."""
    if qualified:
        patient = ctx.dcc.create_patient(
            traits("PAT-TROIS", ("DOMINIQUE", "MARIE-LOUISE"), "F", "1979-03-28", "63220"),
            ins_matricule=INS[0],
            ins_oid=INS[1],
        )
        ctx.dcc.change_identity_status(patient["patient_id"], "validee", justificatif="carte_identite")
        ctx.dcc.change_identity_status(patient["patient_id"], "qualifiee")
    else:
        patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    ctx.dcc.set_status(frcp["document_id"], "valide")
    pps = ctx.dcc.create_pps(frcp["document_id"], content=CARE)
    ctx.dcc.set_status(pps["document_id"], "complete")
    ctx.dcc.set_status(pps["document_id"], "valide")
    return ctx.dcc.new_version(pps["document_id"]) if version > 1 else pps


def _render(ctx: ScenarioContext, proof: int, document_id: str, fmt: str, name: str) -> bytes:
    """Renders through the driver and stores the bytes as the proof the DCC's event names."""
    relative = f"artifacts/{ctx.id}.{proof:02d}/{name}"
    rendered = ctx.dcc.call("render_document", document_id=document_id, format=fmt, artifact=relative)
    content = base64.b64decode(rendered["content_base64"])
    ctx.proof(proof, name, content)
    return content


@scenario("CDA.05.01")
def status_section(ctx: ScenarioContext) -> None:
    """The CDA N3 of a validated PPS carries « Statut du document » = validé."""
    pps = _pps(ctx)
    _render(ctx, 1, pps["document_id"], "cda_n3", "pps-n3.xml")


@scenario("CDA.06.01")
def new_version_replaces(ctx: ScenarioContext) -> None:
    """The CDA of version 2 keeps the setId and replaces (RPLC) version 1."""
    pps = _pps(ctx, version=2)
    _render(ctx, 1, pps["document_id"], "cda_n3", "pps-v2-n3.xml")


@scenario("PRES.02.01")
def pdf_copy_in_pps_cda(ctx: ScenarioContext) -> None:
    """The PPS PDF is embedded in its CDA N3 (section FR-Document-PDF-copie)."""
    pps = _pps(ctx)
    _render(ctx, 1, pps["document_id"], "cda_n3", "pps-n3.xml")


@scenario("PRES.04.01")
def pdf_a1(ctx: ScenarioContext) -> None:
    """The PDF of the PPS identifies itself as PDF/A-1."""
    pps = _pps(ctx)
    pdf = _render(ctx, 1, pps["document_id"], "pdf", "pps.pdf")
    ctx.check(b"pdfaid:part" in pdf or b"pdfaid" in pdf, "no PDF/A identification in the PDF")
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.09.01")
def datamatrix_every_page(ctx: ScenarioContext) -> None:
    """A qualified patient's PPS PDF carries the INS datamatrix on every page."""
    pps = _pps(ctx, qualified=True)
    _render(ctx, 1, pps["document_id"], "pdf", "pps.pdf")
    rendered = [e for e in ctx.dcc.events() if e["type"] == "document.rendered"][-1]["data"]
    ctx.proof(
        2,
        "datamatrix.html",
        snapshot(
            "Datamatrix INS par page",
            [(k, rendered.get(k)) for k in ("pages", "pages_with_datamatrix", "datamatrix_matches_header")],
        ),
    )
