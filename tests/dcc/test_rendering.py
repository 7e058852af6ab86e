"""Rendering stored FRCP/PPS (SQLite and PostgreSQL): the PDF's INS datamatrix decoded back on every page, the
PDF/A identification, the CDA through the ANS chain, the document.rendered events, and the faults."""

from __future__ import annotations

import io
import time

import pypdfium2
import pytest
from pylibdmtx.pylibdmtx import decode
from pypdf import PdfReader
from sqlalchemy import select

from dcc import faults, identifiers, rgpd
from dcc.cda import build_cda
from dcc.cda.inspect import NS, facts
from dcc.db.models import DccEvent
from dcc.services import rendering
from dcc.services.documents import (
    COMPLETE,
    VALIDE,
    add_attachment,
    create_frcp,
    create_pps,
    new_version,
    set_status,
)
from dcc.services.patients import Traits, create_patient
from harness.cda import Validator

pytestmark = pytest.mark.persistence

RCP = {
    "rrc_id": "5201",
    "gestionnaire_id": "520114",
    "rcp_id": "RCP-SEIN-01",
    "session_id": "S-2025-06",
    "nom": "ONCO PDL / 3C CHU Angers / Sein",
    "date": "2025-05-30T14:00:00+02:00",
    "quorum": True,
    "etablissement": {
        "nom": "CHU d'Angers",
        "finess": "490000031",
        "adresse": "4 rue Larrey",
        "code_postal": "49933",
        "ville": "ANGERS",
    },
}
CARE = [
    {
        "libelle": f"Cure de chimiothérapie {n}",
        "code": "C15632",
        "debut": f"2025-0{1 + n % 5}-0{1 + n % 8}",
        "fin": f"2025-0{1 + n % 5}-1{n % 8}",
        "confirme": n % 3 != 0,
    }
    for n in range(14)
] + [{"libelle": "Radiothérapie", "code": "C15313", "debut": "2099-01-01", "confirme": False}]
CONTENT = {
    "rcp": RCP,
    "motif": "Avis sur la stratégie thérapeutique",
    "synthese": "Patiente de 45 ans, tumeur du sein droit de 2 cm.",
    "proposition": "Tumorectomie puis radiothérapie.",
    "diagnostic": {
        "date": "2025-01-29",
        "topographie_code": "C50.2",
        "topographie": "Sein, quadrant supéro-interne",
        "morphologie_code": "8500/3",
        "morphologie": "Carcinome canalaire infiltrant",
        "t": "T1b",
        "n": "N1",
        "m": "M0",
    },
    "traitements": CARE,
    "soins_support": [
        {
            "libelle": "Activité physique adaptée",
            "code": "ORG-175",
            "debut": "2025-02-01",
            "fin": "2025-03-01",
            "confirme": True,
        },
        {"libelle": "Soutien psychologique", "code": "ORG-037", "debut": "2099-01-01"},
    ],
    "soins_prevus": [  # the reuse area's care list (dcc.services.reuse): one past confirmed, one future
        {"categorie": "traitement", "libelle": "Chirurgie", "date": "2025-02-03", "confirme": True},
        {"categorie": "soin_support", "libelle": "Psychologue", "date": "2099-03-01", "confirme": False},
    ],
    "destinataires": [
        {
            "nom": "MARTIN",
            "prenom": "Michel",
            "rpps": "10009876543",
            "mssante": "michel.martin@test.mssante.fr",
        }
    ],
    "auteur": {
        "nom": "MULLER",
        "prenom": "Charles",
        "rpps": "10001234567",
        "specialite_code": "G15_10/SM36",
        "specialite": "Médecin - Oncologie médicale",
        "etablissement": RCP["etablissement"],
    },
}


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(cache_dir=tmp_path_factory.mktemp("cda-cache"))


def _patient(session, qualified: bool):
    patient = create_patient(
        session, Traits("Pat-Trois", ("Dominique", "Marie-Louise"), "F", "1979-03-28", "63220"), author="u1"
    )
    # the identity rules are tested elsewhere: here only the resulting state matters
    patient.ins_matricule, patient.ins_oid = "279035121518989", "1.2.250.1.213.1.4.10"
    patient.identity_status = "qualifiee" if qualified else "recuperee"
    session.flush()
    return patient


def _documents(session, qualified: bool = True):
    patient = _patient(session, qualified)
    frcp = create_frcp(session, patient, "u1", CONTENT)
    set_status(session, frcp, COMPLETE, "u1")
    set_status(session, frcp, VALIDE, "u2")
    pps = create_pps(session, frcp, "u1", CONTENT)
    add_attachment(session, pps, "Effets secondaires", "text/plain", "Nausées grade 1".encode(), "u1")
    set_status(session, pps, COMPLETE, "u1")
    set_status(session, pps, VALIDE, "u1")
    return patient, frcp, pps


def _last(session, type_: str) -> DccEvent:
    return session.scalars(
        select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id.desc())
    ).first()


def decoded_pages(pdf: bytes) -> list[bytes | None]:
    """Each page rasterised (pdfium, 150 dpi) and the top-right corner decoded with libdmtx."""
    out: list[bytes | None] = []
    document = pypdfium2.PdfDocument(pdf)
    for index in range(len(document)):
        image = document[index].render(scale=150 / 72).to_pil().convert("L")
        width, height = image.size
        found = decode(
            image.crop((int(width * 0.6), 0, width, int(height * 0.14))), max_count=1, timeout=5000
        )
        out.append(found[0].data if found else None)
    return out


def test_pps_pdf_datamatrix_on_every_page_matches_the_header(session, tmp_path):
    _, _, pps = _documents(session)
    started = time.perf_counter()
    pdf = rendering.render(session, pps, "pdf", path=tmp_path / "pps.pdf")
    elapsed = time.perf_counter() - started
    header = facts(rendering.render(session, pps, "cda_n3"))
    pages = decoded_pages(pdf)
    assert len(pages) >= 2, "the test document should span several pages"
    for data in pages:
        assert data is not None
        assert data.startswith(b"IS01") and f"S1{header.ins_matricule}S2{header.ins_oid}\x1d".encode() in data
        assert b"S4PAT-TROIS\x1d" in data and b"S628-03-1979" in data
    event = session.scalars(
        select(DccEvent).where(DccEvent.type == "document.rendered").order_by(DccEvent.id)
    ).all()[-2]
    assert event.data["format"] == "pdf" and event.artifacts == [str(tmp_path / "pps.pdf")]
    assert (event.data["pages"], event.data["pages_without_datamatrix"]) == (len(pages), 0)
    assert event.data["datamatrix_matches_header"] is True
    assert event.data["identity_status"] == "qualifiee" and event.data["ins"] == header.ins_matricule
    assert (event.data["pdfa_part"], event.data["pdfa_conformance"]) == ("1", "B")
    assert event.data["future_items_in_syntheses"] == 0
    assert (tmp_path / "pps.pdf").read_bytes() == pdf
    xmp = PdfReader(io.BytesIO(pdf)).xmp_metadata.rdf_root.toxml()
    assert 'pdfaid:part="1"' in xmp and 'pdfaid:conformance="B"' in xmp
    built = _last(session, "document.synthesis_built")
    assert built.data["treatments_synthesis"] and built.data["supportive_care_synthesis"]
    print(f"\nPPS PDF: {len(pages)} pages, {len(pdf)} bytes, rendered in {elapsed:.2f} s")


def test_no_datamatrix_and_no_matricule_when_not_qualified(session):
    _, frcp, pps = _documents(session, qualified=False)
    for document in (frcp, pps):
        pdf = rendering.render(session, document, "pdf")
        assert set(decoded_pages(pdf)) == {None}
        event = _last(session, "document.rendered")
        assert event.data["pages_with_datamatrix"] == 0 and "ins" not in event.data
        cda = rendering.render(session, document, "cda_n3")
        assert b"279035121518989" not in cda and b"279035121518989" not in pdf
        assert _last(session, "document.rendered").data["ins_in_header"] is False


def test_stored_documents_validate_and_events_carry_the_rule_fields(session, validator, tmp_path):
    _, frcp, pps = _documents(session)
    v2 = new_version(session, pps, "u1")
    for document, volet in (
        (frcp, "CANCER-FRCP 2025.01"),
        (pps, "CANCER-PPS 2025.01"),
        (v2, "CANCER-PPS 2025.01"),
    ):
        started = time.perf_counter()
        cda = rendering.render(session, document, "cda_n3", path=tmp_path / f"{document.id}.xml")
        elapsed = time.perf_counter() - started
        report = validator.validate(cda, name=f"{document.id}.xml")
        assert (
            report.valid
            and report.volet == volet
            and not report.schematron_failures
            and not report.xsd_errors
        )
        event = _last(session, "document.rendered").data
        assert event["document_id"] == identifiers.document_id(document) == facts(cda).document_id
        assert event["status_section_matches"] is True and event["pdf_copy"] is True
        assert (
            event["rgpd_text1_sha256"]
            == __import__("hashlib").sha256(rgpd.TEXT_1_DEFAULT.encode()).hexdigest()
        )
        if document.version > 1:
            assert event["rplc_parent_is_previous"] is True and event["version"] == 2
        if document.kind == "FRCP":
            assert event["rcp_id"] == "1.2.250.1.161.1.20.3.1^RCP-SEIN-01" and event["quorum"] is True
        n1 = rendering.render(session, document, "cda_n1")
        n1_report = validator.validate(n1, name="n1.xml")
        assert n1_report.valid and n1_report.volet == "N1 (XDS-SD)" and not n1_report.schematron_failures
        print(f"\n{document.kind} v{document.version} N3: {len(cda)} bytes in {elapsed:.2f} s")
    # PRES.02's XPath on the PPS file
    from lxml import etree

    root = etree.parse(str(tmp_path / f"{pps.id}.xml"))
    assert root.xpath(
        "boolean(//hl7:section[hl7:templateId/@root='1.2.250.1.213.1.1.2.243']//hl7:observationMedia/"
        "hl7:value[@mediaType='application/pdf' and @representation='B64' and string-length(normalize-space(.)) > 100])",
        namespaces=NS,
    )


def test_build_cda_api_and_html(session):
    _, _, pps = _documents(session)
    assert facts(build_cda(session, pps, "N3")).has_pdf_copy
    page = rendering.render(session, pps, "html").decode()
    assert rgpd.HEADING in page and "PAT-TROIS" in page and "279035121518989" in page
    assert page.index("Les établissements") < page.index("Des acteurs de la santé publique")
    assert _last(session, "document.rendered").data["format"] == "html"
    with pytest.raises(rendering.RenderingError):
        rendering.render(session, pps, "docx")


@pytest.mark.parametrize(
    ("fault", "fmt", "field", "bad"),
    [
        ("pdf_datamatrix_missing_on_later_pages", "pdf", "pages_without_datamatrix", lambda v: v > 0),
        ("pdf_not_pdfa1", "pdf", "pdfa_part", lambda v: v != "1"),
        ("synthesis_includes_future_items", "pdf", "future_items_in_syntheses", lambda v: v > 0),
        ("cda_status_section_mismatch", "cda_n3", "status_section_matches", lambda v: v is False),
        ("cda_rplc_missing", "cda_n3", "rplc_parent_is_previous", lambda v: v is False),
        ("cda_ins_when_not_qualified", "cda_n3", "ins_in_header", lambda v: v is True),
        ("cda_pps_without_pdf_copy", "cda_n3", "pdf_copy", lambda v: v is False),
    ],
)
def test_faults_show_in_the_event(session, fault, fmt, field, bad):
    _, _, pps = _documents(session, qualified=fault != "cda_ins_when_not_qualified")
    document = new_version(session, pps, "u1")
    rendering.render(session, document, fmt)
    good = _last(session, "document.rendered").data[field]
    assert not bad(good)
    with faults.enabled(fault):
        output = rendering.render(session, document, fmt)
    assert bad(_last(session, "document.rendered").data[field])
    if fault == "pdf_datamatrix_missing_on_later_pages":
        pages = decoded_pages(output)
        assert pages[0] is not None and None in pages[1:]
