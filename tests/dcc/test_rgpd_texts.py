"""The information texts' settings (RGPD.02–03) and the CDA faults of CDA.01–04 / RGPD.01: text 1 adapted per
establishment reaches that establishment's documents only, text 2 cannot be changed, and each fault changes the
produced CDA the way its requirement can see."""

from __future__ import annotations

import hashlib

import pytest
from lxml import etree
from sqlalchemy import select

from dcc import faults, rgpd
from dcc.cda.inspect import NS
from dcc.db.models import DccEvent
from dcc.services import rendering, rgpd_texts
from dcc.services.documents import COMPLETE, VALIDE, create_frcp, create_pps, set_status
from tests.dcc.test_rendering import CONTENT, _patient

pytestmark = pytest.mark.persistence

A, B = "750000001", "690000002"
ADAPTED = "Texte 1 adapté par l'établissement A : écrivez au DPO (dpo@a.example)."


def _events(session, type_: str) -> list[dict]:
    return [
        e.data for e in session.scalars(select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id))
    ]


def _pps(session, finess: str | None = None, qualified: bool = False):
    frcp = create_frcp(session, _patient(session, qualified), "u1", CONTENT, finess=finess)
    set_status(session, frcp, COMPLETE, "u1")
    set_status(session, frcp, VALIDE, "u2")
    pps = create_pps(session, frcp, "u1", CONTENT)
    set_status(session, pps, COMPLETE, "u1")
    set_status(session, pps, VALIDE, "u1")
    return frcp, pps


def _paragraphs(cda: bytes) -> list[str]:
    root = etree.fromstring(cda)
    return [
        "".join(p.itertext())
        for p in root.xpath(
            f"//hl7:section[hl7:title='{rgpd.HEADING}']/hl7:text/hl7:paragraph", namespaces=NS
        )
    ]


def test_text_1_adapted_for_one_establishment(session):
    rgpd_texts.set_text(session, A, 1, ADAPTED, "dpo-a")
    changed = _events(session, "settings.rgpd_text_changed")[-1]
    assert changed["finess"] == A and changed["text"] == 1
    assert changed["text_sha256"] == hashlib.sha256(ADAPTED.encode()).hexdigest()
    _, pps_a = _pps(session, A)
    _, pps_b = _pps(session, B)
    rendering.render(session, pps_a, "cda_n3")
    rendered = _events(session, "document.rendered")[-1]
    assert rendered["finess"] == A and rendered["rgpd_text1_sha256"] == changed["text_sha256"]
    cda_b = rendering.render(session, pps_b, "cda_n3")
    assert _paragraphs(cda_b)[0] == rgpd.TEXT_1_DEFAULT


def test_text_2_cannot_be_changed(session):
    before = len(_events(session, "settings.rgpd_text_changed"))
    with pytest.raises(rgpd_texts.RgpdTextError) as refused:
        rgpd_texts.set_text(session, A, 2, "Autre texte", "admin")
    assert refused.value.reason == "text_2_fixed"
    assert len(_events(session, "settings.rgpd_text_changed")) == before
    assert rgpd_texts.settings_view(session, A)["text_2_editable"] is False


def test_invalid_settings_are_refused(session):
    for finess, text, content, reason in (
        ("12", 1, "x", "invalid_finess"),
        (A, 3, "x", "unknown_text"),
        (A, 1, "  ", "empty_text"),
    ):
        with pytest.raises(rgpd_texts.RgpdTextError) as refused:
            rgpd_texts.set_text(session, finess, text, content, "admin")
        assert refused.value.reason == reason


def test_fault_text_2_editable(session):
    with faults.enabled("rgpd_text2_editable"):
        rgpd_texts.set_text(session, "130000003", 2, "Texte 2 réécrit.", "admin")
        assert rgpd_texts.settings_view(session, "130000003")["text_2_editable"] is True
    assert _events(session, "settings.rgpd_text_changed")[-1]["text"] == 2
    assert rgpd_texts.text_2(session, "130000003") == "Texte 2 réécrit."


def test_fault_text_1_not_per_establishment(session):
    rgpd_texts.set_text(session, "310000004", 1, ADAPTED, "dpo")
    with faults.enabled("rgpd_text1_not_per_establishment"):
        frcp, _ = _pps(session, "310000004")
    assert frcp.rgpd_text_1 == rgpd.TEXT_1_DEFAULT
    frcp, _ = _pps(session, "310000004")
    assert frcp.rgpd_text_1 == ADAPTED


def test_fault_texts_wrong_order(session):
    _, pps = _pps(session)
    good = _paragraphs(rendering.render(session, pps, "cda_n3"))
    with faults.enabled("rgpd_texts_wrong_order"):
        bad = _paragraphs(rendering.render(session, pps, "cda_n3"))
    assert good[0] == rgpd.TEXT_1_DEFAULT and good[1].startswith("Des acteurs de la santé publique")
    assert bad[0].startswith("Des acteurs de la santé publique") and bad[-1] == rgpd.TEXT_1_DEFAULT


@pytest.mark.parametrize(
    ("fault", "kind", "fmt", "xpath"),
    [
        ("cda_frcp_section_missing", "FRCP", "cda_n3", "//hl7:section[hl7:code/@code='42349-1']"),
        (
            "cda_pps_care_plan_uncoded",
            "PPS",
            "cda_n3",
            "//hl7:section[hl7:title='PROGRAMME THÉRAPEUTIQUE ET DE SUIVI']/hl7:code",
        ),
        (
            "cda_n1_without_xds_sd_template",
            "PPS",
            "cda_n1",
            "/hl7:ClinicalDocument/hl7:templateId[@root='1.3.6.1.4.1.19376.1.2.20']",
        ),
        (
            "cda_qualified_traits_not_br",
            "PPS",
            "cda_n3",
            "//hl7:patient/hl7:name/hl7:family[@qualifier='BR']",
        ),
    ],
)
def test_cda_faults_remove_what_the_volet_requires(session, fault, kind, fmt, xpath):
    frcp, pps = _pps(session, qualified=True)
    document = frcp if kind == "FRCP" else pps
    good = etree.fromstring(rendering.render(session, document, fmt))
    with faults.enabled(fault):
        bad = etree.fromstring(rendering.render(session, document, fmt))
    assert good.xpath(xpath, namespaces=NS)
    assert not bad.xpath(xpath, namespaces=NS)
