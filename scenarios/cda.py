"""Chapters CDA, PRES, and INS.09: the documents the DCC renders — the FRCP and PPS CDA R2 N3 and N1 checked by the
ANS chain (schema + schematrons, ``harness.cda.Validator``), the qualified INS header, status section and RPLC, the
PPS PDF (PDF/A-1, INS datamatrix on every page, syntheses of realised care), its copy in the PPS CDA and the
generic-stylesheet view (REPR.06 is the reuse area's)."""

from __future__ import annotations

import base64
import json
import threading

from harness.cda import Validator
from harness.cda.volets import PROFILES
from scenarios.context import ScenarioContext
from scenarios.data import AUTHOR, FRCP_CONTENT, journal, snapshot, traits
from scenarios.registry import resource, scenario

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


ANS_VALIDATION = "ans-validation"
_validator: Validator | None = None
_validator_lock = threading.RLock()


# what the reference DCC's FRCP and PPS are checked with, besides the five profiles
VOLET_SCHEMATRONS = ("CI-SIS_CANCER-FRCP_2025.01.sch", "CI-SIS_CANCER-PPS_2025.01.sch")


def validator() -> Validator:
    """One ANS validation chain per process: its first use compiles the schematrons (about 10 s), later documents
    take well under a second."""
    global _validator
    with _validator_lock:
        if _validator is None:
            _validator = Validator()
        return _validator


@resource(ANS_VALIDATION)
def warmed_validator() -> Validator:
    """The chain with everything the CDA scenarios use compiled (a worker process does it before its first
    scenario, while the other workers run theirs)."""
    chain = validator()
    with _validator_lock:
        chain.warm_up([*PROFILES, *VOLET_SCHEMATRONS])
        chain.xsd  # noqa: B018 - loads the XML Schema now
    return chain


def validate_cda(
    ctx: ScenarioContext, proof: int, content: bytes, name: str, level: str, rendered: dict
) -> bool:
    """Validates a CDA the DCC produced as the ANS testContenuCDA chain does, stores the report as proof ``proof``
    and records ``cda.validated`` (level, valid, volet) for the CDA rules."""
    if ANS_VALIDATION not in ctx.spec.resources:  # else the run may compile the chain in every worker process
        raise RuntimeError(
            f"scenario {ctx.id} validates CDA: declare resources=(ANS_VALIDATION,) in its @scenario"
        )
    with _validator_lock:
        report = validator().validate(content, name=name)
    ctx.proof(proof, name.rsplit(".", 1)[0] + "-validation.json", json.dumps(report.to_json(), indent=2))
    ctx.note(
        "cda.validated",
        document_id=rendered["document_id"],
        level=level,
        valid=report.valid,
        volet=report.volet,
        file=name,
        errors=len(report.xsd_errors) + len(report.blocking_failures) + (1 if report.error else 0),
    )
    return report.valid


def _frcp(ctx: ScenarioContext, qualified: bool = False) -> dict:
    """A validated FRCP of a fresh patient."""
    patient = _patient(ctx, qualified)
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    ctx.dcc.set_status(frcp["document_id"], "valide")
    return frcp


def _patient(ctx: ScenarioContext, qualified: bool) -> dict:
    if not qualified:
        return ctx.dcc.create_patient(traits())
    patient = ctx.dcc.create_patient(
        traits("PAT-TROIS", ("DOMINIQUE", "MARIE-LOUISE"), "F", "1979-03-28", "63220"),
        ins_matricule=INS[0],
        ins_oid=INS[1],
    )
    ctx.dcc.change_identity_status(patient["patient_id"], "validee", justificatif="carte_identite")
    ctx.dcc.change_identity_status(patient["patient_id"], "qualifiee")
    return patient


def _pps_of(ctx: ScenarioContext, frcp: dict) -> dict:
    pps = ctx.dcc.create_pps(frcp["document_id"], content=CARE)
    ctx.dcc.set_status(pps["document_id"], "complete")
    ctx.dcc.set_status(pps["document_id"], "valide")
    return pps


def _pps(ctx: ScenarioContext, qualified: bool = False, version: int = 1) -> dict:
    """A validated PPS (and, for ``version`` 2, its new version) of a fresh patient, qualified when asked."""
    pps = _pps_of(ctx, _frcp(ctx, qualified))
    return ctx.dcc.new_version(pps["document_id"]) if version > 1 else pps


def _render(ctx: ScenarioContext, proof: int, document_id: str, fmt: str, name: str) -> bytes:
    """Renders through the driver and stores the bytes as the proof the DCC's event names."""
    relative = f"artifacts/{ctx.id}.{proof:02d}/{name}"
    rendered = ctx.dcc.call("render_document", document_id=document_id, format=fmt, artifact=relative)
    content = base64.b64decode(rendered["content_base64"])
    ctx.proof(proof, name, content)
    return content


@scenario("CDA.01.01", resources=(ANS_VALIDATION,))
def frcp_n3_valid(ctx: ScenarioContext) -> None:
    """A complete FRCP is validated; its CDA R2 N3 passes the schema and the FRCP volet's schematron."""
    frcp = _frcp(ctx)
    content = _render(ctx, 1, frcp["document_id"], "cda_n3", "frcp-n3.xml")
    validate_cda(ctx, 2, content, "frcp-n3.xml", "N3", frcp)


@scenario("CDA.02.01", resources=(ANS_VALIDATION,))
def pps_n3_valid(ctx: ScenarioContext) -> None:
    """A complete PPS is validated; its CDA R2 N3 passes the schema and the PPS volet's schematron."""
    pps = _pps(ctx)
    content = _render(ctx, 1, pps["document_id"], "cda_n3", "pps-n3.xml")
    validate_cda(ctx, 2, content, "pps-n3.xml", "N3", pps)


@scenario("CDA.03.01", resources=(ANS_VALIDATION,))
def n1_valid(ctx: ScenarioContext) -> None:
    """The CDA R2 N1 (PDF in a non-structured body) of an FRCP and of a PPS pass the structuration minimale."""
    frcp = _frcp(ctx)
    pps = _pps_of(ctx, frcp)
    for name, document_id in (("frcp-n1.xml", frcp["document_id"]), ("pps-n1.xml", pps["document_id"])):
        content = _render(ctx, 1, document_id, "cda_n1", name)
        validate_cda(ctx, 2, content, name, "N1", {"document_id": document_id})


@scenario("CDA.04.01")
def qualified_ins_header(ctx: ScenarioContext) -> None:
    """A PPS of a patient whose INS is qualified: the recordTarget carries the INS and the BR traits."""
    pps = _pps(ctx, qualified=True)
    _render(ctx, 1, pps["document_id"], "cda_n3", "pps-n3.xml")


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


@scenario("PRES.01.01")
def pdf_national_model(ctx: ScenarioContext) -> None:
    """A complete PPS is validated and its PDF edited, for a reviewer to compare with the national model (manual
    rule: the PDF is the proof; the scan of the edition is the reviewer's)."""
    pps = _pps(ctx)
    pdf = _render(ctx, 1, pps["document_id"], "pdf", "pps.pdf")
    for number, image in enumerate(_edition_images(pdf), start=1):
        ctx.proof(2, f"edition-page-{number}.png", image)


def _edition_images(pdf: bytes) -> list[bytes]:
    """The edition of the PDF as page images (150 dpi, grey), the form the reviewer's scan takes; the reviewer
    replaces them with the scan of the printed copy when comparing with the national model."""
    import io

    import pypdfium2

    images = []
    document = pypdfium2.PdfDocument(pdf)
    for index in range(len(document)):
        buffer = io.BytesIO()
        document[index].render(scale=150 / 72).to_pil().convert("L").save(buffer, format="PNG")
        images.append(buffer.getvalue())
    return images


@scenario("PRES.03.01")
def pdf_or_generic_stylesheet(ctx: ScenarioContext) -> None:
    """A validated PPS shown as its PDF, then as its CDA through the CI-SIS generic stylesheet (manual rule: both
    presentations are the proof)."""
    pps = _pps(ctx)
    _render(ctx, 1, pps["document_id"], "pdf", "pps.pdf")
    html = _render(ctx, 1, pps["document_id"], "html", "pps-feuille-de-style.html")
    ctx.check(b"<html" in html.lower(), "the generic-stylesheet rendering is not HTML")


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
