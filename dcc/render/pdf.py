"""The PDF of an FRCP or a PPS for the patient (cahier des charges 2.3.6), PDF/A-1b, with the INS datamatrix in
the top-right margin of every page when the identity is qualified (RNIV, INS.09).

Layout: the order of the national PPS presentation as the ANS PPS 2025.01 example shows it (identification and
status, programme thérapeutique with its synthesis of care already done, soins oncologiques de support with theirs,
diagnosis, team, the two RGPD texts). The syntheses are rebuilt at each rendering from care with confirmed, past
dates only (2.1.2.2). HTML → PDF by WeasyPrint (``pdf_variant="pdf/a-1b"``; see docs/cda-production.md for what
WeasyPrint does and does not guarantee about PDF/A).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from html import escape

from dcc import faults, rgpd
from dcc.cda.model import CareItem, CdaDocument, Professional
from dcc.render import datamatrix

FAULT_DATAMATRIX_FIRST_PAGE_ONLY = faults.register(
    "pdf_datamatrix_missing_on_later_pages",
    "the INS datamatrix is printed on the first page of the PDF only",
    breaks=["INS.09"],
)
FAULT_NOT_PDFA = faults.register(
    "pdf_not_pdfa1",
    "the PDF is written as plain PDF, without the PDF/A-1 identification",
    breaks=["PRES.04"],
)

PDF_VARIANT = "pdf/a-1b"
STATUS_LABELS = {"en_cours": "En cours", "complete": "Complété", "valide": "Validé", "cloture": "Clôturé"}
TITLES = {
    "FRCP": "Fiche de réunion de concertation pluridisciplinaire",
    "PPS": "Programme personnalisé de soins",
}


@dataclass(frozen=True)
class Syntheses:
    treatments: tuple[CareItem, ...]
    supportive_care: tuple[CareItem, ...]
    future_items: int  # items listed although not done: must stay 0 (REPR.06)


def syntheses(document: CdaDocument) -> Syntheses:
    """« Synthèse des traitements et suivis (réalisés) » and « … soins oncologiques de support (réalisés) »."""
    today = document.today
    treatments = tuple(i for i in document.treatments if i.done(today))
    support = tuple(i for i in document.supportive_care if i.done(today))
    return Syntheses(treatments, support, 0)


def _d(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _care_table(items: tuple[CareItem, ...], empty: str) -> str:
    if not items:
        return f"<p class='empty'>{escape(empty)}</p>"
    rows = "".join(
        f"<tr><td>{escape(i.label)}</td><td>{_d(i.start)}</td><td>{_d(i.end)}</td>"
        f"<td>{escape(i.comment or '')}</td></tr>"
        for i in items
    )
    return (
        "<table><thead><tr><th>Soin</th><th>Début</th><th>Fin</th><th>Commentaire</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _person(p: Professional) -> str:
    org = f", {escape(p.organisation.name)}" if p.organisation else ""
    return f"Dr {escape(p.given)} {escape(p.family)} ({escape(p.specialty_label)}{org})"


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(chunk)}</p>" for chunk in (text or "Non renseigné").split("\n\n"))


def html(document: CdaDocument, synth: Syntheses | None = None) -> str:
    """The presentation as HTML (also what the PDF is made of); ``synth`` when the caller built the syntheses
    (the service uses ``dcc.services.reuse.build_syntheses``, which also reads the patient's other PPS)."""
    patient = document.patient
    today = document.today
    synth = synth or syntheses(document)
    planned_treatments = tuple(i for i in document.treatments if not i.done(today))
    planned_support = tuple(i for i in document.supportive_care if not i.done(today))
    d = document.diagnosis
    ins_line = ""
    margin_css = ""
    if patient.qualified:
        image = base64.b64encode(datamatrix.png(datamatrix.payload(patient))).decode("ascii")
        ins_line = f"<tr><th>INS</th><td>{escape(patient.ins_matricule or '')} ({escape(patient.ins_oid or '')})</td></tr>"
        selector = "@page :first" if faults.active(FAULT_DATAMATRIX_FIRST_PAGE_ONLY.name) else "@page"
        margin_css = (
            f'{selector} {{ @top-right {{ content: url("data:image/png;base64,{image}"); '
            "width: 24mm; image-resolution: 300dpi; vertical-align: middle; } }"
        )
    title = TITLES[document.kind]
    banner = f"{patient.nom_naissance} {' '.join(patient.prenoms)} — né(e) le {_d(patient.date_naissance)}"
    body = [
        f"<h1>{escape(title)}</h1>",
        "<table class='id'>",
        f"<tr><th>Patient</th><td>{escape(patient.nom_naissance)} {escape(' '.join(patient.prenoms))}</td></tr>",
        f"<tr><th>Né(e) le</th><td>{_d(patient.date_naissance)}</td></tr>",
        f"<tr><th>Sexe</th><td>{escape(patient.sexe)}</td></tr>",
        ins_line,
        f"<tr><th>Statut du document</th><td>{STATUS_LABELS.get(document.status, document.status)}"
        f" — version {document.version}</td></tr>",
        f"<tr><th>Date</th><td>{_d(document.effective_time)}</td></tr>",
        f"<tr><th>Rédigé par</th><td>{_person(document.author)}</td></tr>",
        "</table>",
    ]
    if document.kind == "PPS":
        body += [
            "<h2>Programme thérapeutique et de suivi</h2>",
            "<h3>Synthèse des traitements et suivis (réalisés)</h3>",
            _care_table(synth.treatments, "Aucun traitement réalisé à ce jour."),
            "<h3>Proposition thérapeutique (en cours ou à venir)</h3>",
            _care_table(planned_treatments, "Aucun traitement prévu."),
            "<h2>Soins oncologiques de support, accompagnement social et socioprofessionnel</h2>",
            "<h3>Synthèse des soins oncologiques de support et accompagnements (réalisés)</h3>",
            _care_table(synth.supportive_care, "Aucun soin de support réalisé à ce jour."),
            "<h3>Soins de support proposés</h3>",
            _care_table(planned_support, "Aucun soin de support prévu."),
        ]
    else:
        rcp = document.rcp
        body += [
            "<h2>Réunion de concertation pluridisciplinaire</h2>",
            f"<p>{escape(rcp.name) if rcp else 'RCP non renseignée'} — {_d(rcp.date) if rcp else '—'}</p>",
            "<h2>Motif de la RCP</h2>",
            _paragraphs(document.reason),
            "<h2>Synthèse du cas présenté et question posée</h2>",
            _paragraphs(document.case_summary),
            "<h2>Proposition de la RCP</h2>",
            _paragraphs(document.proposal),
        ]
    body += [
        "<h2>Diagnostic</h2>",
        "<table class='id'>",
        f"<tr><th>Date du diagnostic</th><td>{_d(d.date)}</td></tr>",
        f"<tr><th>Topographie</th><td>{escape(' '.join(x for x in (d.topography_code, d.topography_label) if x) or '—')}</td></tr>",
        f"<tr><th>Morphologie</th><td>{escape(' '.join(x for x in (d.morphology_code, d.morphology_label) if x) or '—')}</td></tr>",
        f"<tr><th>TNM</th><td>{escape(d.tnm_t)} {escape(d.tnm_n)} {escape(d.tnm_m)}</td></tr>",
        "</table>",
    ]
    if document.comment:
        body += ["<h2>Commentaire</h2>", _paragraphs(document.comment)]
    if document.recipients:
        body += ["<h2>Équipe de soins destinataire</h2><ul>"]
        body += [f"<li>{_person(r)}</li>" for r in document.recipients]
        body += ["</ul>"]
    if document.attachments:
        body += ["<h2>Documents joints</h2><ul>"]
        body += [f"<li>{escape(a.title)} ({escape(a.mime_type)})</li>" for a in document.attachments]
        body += ["</ul>"]
    text_1 = document.rgpd_text_1 or rgpd.TEXT_1_DEFAULT
    text_2 = document.rgpd_text_2 or rgpd.TEXT_2
    body += [f"<h2 class='rgpd'>{escape(rgpd.HEADING)}</h2>", _paragraphs(text_1), _paragraphs(text_2)]
    css = f"""
@page {{ size: A4; margin: 30mm 15mm 18mm 15mm;
  @top-left {{ content: "{escape(title)}"; font-size: 9pt; color: #444; }}
  @top-center {{ content: "{escape(banner)}"; font-size: 8pt; }}
  @bottom-center {{ content: "Page " counter(page) " / " counter(pages); font-size: 8pt; }} }}
{margin_css}
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }}
h1 {{ font-size: 15pt; color: #1d3b6a; }} h2 {{ font-size: 12pt; color: #1d3b6a; border-bottom: 1px solid #1d3b6a; }}
h3 {{ font-size: 10.5pt; }} table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }}
table.id th {{ width: 35%; background: #eef; }} p.empty {{ font-style: italic; }}
"""
    return (
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{css}</style></head><body>" + "".join(body) + "</body></html>"
    )


_CACHE: OrderedDict[str, bytes] = OrderedDict()
_CACHE_SIZE = 64
_CACHE_LOCK = threading.Lock()


def render(document: CdaDocument, synth: Syntheses | None = None) -> bytes:
    """The PDF bytes (PDF/A-1b identification unless the fault says otherwise).

    WeasyPrint takes about a second per page set; one validated PPS is packaged several times (professionals,
    patient, PDC, DMP) from the same content, so the PDF of an identical HTML page is rendered once and reused
    (a small LRU keyed by the page's sha256 and the PDF variant: same input, same bytes)."""
    from weasyprint import HTML  # imported here: WeasyPrint loads pango at import

    variant = None if faults.active(FAULT_NOT_PDFA.name) else PDF_VARIANT
    page = html(document, synth)
    key = hashlib.sha256(f"{variant}\n{page}".encode()).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    out = io.BytesIO()
    HTML(string=page).write_pdf(out, pdf_variant=variant)
    pdf = out.getvalue()
    with _CACHE_LOCK:
        _CACHE[key] = pdf
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return pdf
