"""Generated FRCP/PPS CDA (N3 and N1) pass the ANS chain — XSD, the five profiles and the volet schematron —
with no failed assert at all (warnings included), for patient situations drawn by hypothesis."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from dcc import faults, rgpd
from dcc.cda import CdaBuildError, build
from dcc.cda.inspect import NS, facts
from dcc.cda.model import Diagnosis
from harness.cda import Validator
from tests.dcc.cda_strategies import documents

INS_XPATH = "hl7:recordTarget/hl7:patientRole/hl7:id[starts-with(@root, '1.2.250.1.213.1.4.')]"


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(cache_dir=tmp_path_factory.mktemp("cda-cache"))


def _assert_clean(validator: Validator, cda: bytes, name: str, volet: str) -> None:
    report = validator.validate(cda, name=name)
    details = [f"{f.schematron} {f.location}: {f.text[:200]}" for f in report.schematron_failures]
    assert report.error is None, report.error
    assert report.volet == volet
    assert report.xsd_errors == [], report.xsd_errors
    assert details == []
    assert report.valid


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents())
def test_generated_documents_pass_the_ans_chain(validator: Validator, document) -> None:
    n3 = build(document, "N3")
    _assert_clean(validator, n3, "n3.xml", f"CANCER-{document.kind} 2025.01")
    _assert_clean(validator, build(document, "N1"), "n1.xml", "N1 (XDS-SD)")

    root = etree.fromstring(n3)
    read = facts(n3)
    # INS only when qualified, and then the traits with BR qualifiers
    assert (read.ins_matricule is not None) == (document.patient.identity_status == "qualifiee")
    if document.patient.ins_matricule and not document.patient.qualified:
        assert document.patient.ins_matricule.encode() not in n3
    if read.ins_matricule:
        assert root.xpath(
            "boolean(hl7:recordTarget/hl7:patientRole/hl7:patient/hl7:name/hl7:family[@qualifier='BR'])",
            namespaces=NS,
        )
    assert read.status == document.status
    assert read.document_id == f"{document.id_root}^{document.id_extension}"
    assert (read.rplc_parent is not None) == (document.version > 1)
    assert root.xpath("string(hl7:versionNumber/@value)", namespaces=NS) == str(document.version)
    assert read.has_pdf_copy
    assert len(
        root.xpath(
            "//hl7:section[hl7:templateId/@root='1.2.250.1.213.1.1.2.37']//hl7:observationMedia",
            namespaces=NS,
        )
    ) == len(document.attachments)
    text = " ".join(
        " ".join(root.xpath(f"//hl7:section[hl7:title='{rgpd.HEADING}']//text()", namespaces=NS)).split()
    )
    assert text.index(" ".join(document.rgpd_text_1.split())) < text.index("Des acteurs de la santé publique")


def test_documents_without_clinical_content_stay_valid(validator: Validator) -> None:
    """Unknown diagnosis, dates and care are written as nullFlavor, not invented, and the documents validate."""
    from hypothesis import find

    for kind in ("FRCP", "PPS"):
        document = find(documents(kind=kind), lambda d: True)
        bare = replace(
            document,
            diagnosis=Diagnosis(),
            treatments=(),
            supportive_care=(),
            attachments=(),
            replaces=None,
            version=1,
            reason="",
            comment="",
        )
        _assert_clean(validator, build(bare, "N3"), "bare.xml", f"CANCER-{kind} 2025.01")


def test_frcp_needs_its_rcp_ids(validator: Validator) -> None:
    """No valid FRCP without the RRC, manager and RCP national ids: refused with a reason, not invented. The N1
    (no structured header constraints) is still produced."""
    from hypothesis import find

    document = replace(find(documents(kind="FRCP"), lambda d: True), rcp=None)
    with pytest.raises(CdaBuildError) as refused:
        build(document, "N3")
    assert refused.value.reason == "rcp_missing"
    _assert_clean(validator, build(document, "N1"), "n1.xml", "N1 (XDS-SD)")


def test_n1_needs_the_pdf_and_levels_are_checked() -> None:
    from hypothesis import find

    document = find(documents(kind="PPS"), lambda d: True)
    with pytest.raises(CdaBuildError) as refused:
        build(replace(document, pdf=None), "N1")
    assert refused.value.reason == "no_pdf"
    with pytest.raises(CdaBuildError):
        build(document, "N2")


def test_same_document_same_bytes() -> None:
    from hypothesis import find

    document = find(documents(), lambda d: True)
    assert build(document, "N3") == build(document, "N3")


@pytest.mark.parametrize(
    ("fault", "breaks"),
    [
        ("cda_ins_when_not_qualified", "INS.08"),
        ("cda_status_section_mismatch", "CDA.05"),
        ("cda_rplc_missing", "CDA.06"),
        ("cda_pps_without_pdf_copy", "PRES.02"),
    ],
)
def test_faults_change_the_cda(fault: str, breaks: str) -> None:
    from hypothesis import find

    assert breaks in faults.CATALOGUE[fault].breaks
    document = find(
        documents(kind="PPS", qualified=False),
        lambda d: d.version > 1 and d.patient.ins_matricule is not None,
    )
    good = facts(build(document, "N3"))
    with faults.enabled(fault):
        bad = facts(build(document, "N3"))
    assert good.ins_matricule is None and good.status == document.status
    assert good.rplc_parent is not None and good.has_pdf_copy
    changed = {
        "cda_ins_when_not_qualified": bad.ins_matricule == document.patient.ins_matricule,
        "cda_status_section_mismatch": bad.status != document.status,
        "cda_rplc_missing": bad.rplc_parent is None,
        "cda_pps_without_pdf_copy": not bad.has_pdf_copy,
    }
    assert changed[fault]
