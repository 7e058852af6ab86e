"""The ANS examples pass the whole chain; copies broken on purpose fail with the assert naming the defect."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree

from harness.cda import Validator

CDA = "urn:hl7-org:v3"
NS = {"cda": CDA}

PASSING = {
    "CANCER-FRCP_2025.01_Appareil.xml": "CANCER-FRCP 2025.01",
    "CANCER-FRCP_2022.01_Transversale.xml": "CANCER-FRCP 2022.01",
    "CANCER-PPS_2025.01.xml": "CANCER-PPS 2025.01",
    "CANCER-PPS_2022.01_feuille-de-style-externe.xml": "CANCER-PPS 2022.01",
    "CANCER-CR-GM_2022.01_AnalyseRealisee.xml": "CANCER-CR-GM 2022.01",
    "DOC_NON_STRUCTURE_CDA-R2-N1.xml": "N1 (XDS-SD)",
    "BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml": "N1 (XDS-SD)",
}


@pytest.mark.parametrize("name", sorted(PASSING))
def test_ans_example_passes(validator: Validator, examples: Path, name: str) -> None:
    report = validator.validate(examples / name)
    assert report.error is None
    assert report.xsd_errors == []
    assert report.blocking_failures == [], [f.text for f in report.blocking_failures]
    assert report.valid
    assert report.volet == PASSING[name]
    expected_runs = 5 + (0 if PASSING[name].startswith("N1") else 1)
    assert len(report.schematrons) == expected_runs


def _frcp(examples: Path) -> etree._ElementTree:
    return etree.parse(str(examples / "CANCER-FRCP_2025.01_Appareil.xml"))


def _texts(validator: Validator, tree: etree._ElementTree) -> list[str]:
    report = validator.validate(etree.tostring(tree), name="broken.xml")
    assert not report.valid
    return [f"{f.schematron}: {f.text}" for f in report.blocking_failures]


def test_missing_section_fails_naming_it(validator: Validator, examples: Path) -> None:
    tree = _frcp(examples)
    section = tree.xpath("//cda:section[cda:templateId/@root='1.2.250.1.213.1.1.2.33']", namespaces=NS)[0]
    component = section.getparent()
    component.getparent().remove(component)
    texts = _texts(validator, tree)
    assert any(
        t.startswith("CI-SIS_CANCER-FRCP_2025.01.sch") and "FR-Statut-dossier-RCP doit être présente" in t
        for t in texts
    ), texts


def test_wrong_document_code_fails(validator: Validator, examples: Path) -> None:
    tree = _frcp(examples)
    tree.getroot().find("cda:code", NS).set("code", "11488-4")
    texts = _texts(validator, tree)
    assert any('L\'élément "code" de la FRCP doit avoir' in t for t in texts), texts


def test_status_outside_value_set_fails(validator: Validator, examples: Path) -> None:
    tree = _frcp(examples)
    value = tree.xpath(
        "//cda:section[cda:templateId/@root='1.2.250.1.213.1.1.2.35']/cda:entry/cda:observation/cda:value",
        namespaces=NS,
    )[0]
    value.set("code", "260385009")  # SNOMED CT "negative": not a document status
    texts = _texts(validator, tree)
    assert any("260385009" in t and "jdv-statut-document-cisis.xml" in t for t in texts), texts


def test_ins_birth_name_without_qualifier_fails(validator: Validator, examples: Path) -> None:
    tree = _frcp(examples)
    family = tree.xpath(
        "//cda:recordTarget/cda:patientRole/cda:patient/cda:name/cda:family[@qualifier='BR']", namespaces=NS
    )[0]
    del family.attrib["qualifier"]
    texts = _texts(validator, tree)
    assert any("Dans le cadre de l'INS" in t and "Nom de naissance" in t for t in texts), texts


def test_self_presenting_document_is_a_cda(validator: Validator, examples: Path) -> None:
    cda = etree.parse(str(examples / "CANCER-PPS_2025.01.xml")).getroot()
    xsl = "http://www.w3.org/1999/XSL/Transform"
    stylesheet = etree.Element(f"{{{xsl}}}stylesheet", nsmap={"xsl": xsl}, version="2.0")
    template = etree.SubElement(stylesheet, f"{{{xsl}}}template", match="/")
    template.append(copy.deepcopy(cda))
    report = validator.validate(etree.tostring(stylesheet), name="self-presenting.xml")
    assert report.volet == "CANCER-PPS 2025.01"
    assert report.blocking_failures == []
    assert any("self-presenting" in n for n in report.notes)
    # and the wrapper does not hide defects
    template[0].find("cda:code", NS).set("code", "00000-0")
    broken = validator.validate(etree.tostring(stylesheet), name="self-presenting-broken.xml")
    assert not broken.valid


def test_unknown_volet_runs_the_profiles_and_says_so(validator: Validator, examples: Path) -> None:
    report = validator.validate(examples / "01_Modèles_contenus_CDA.xml")
    assert report.volet is None
    assert any("unknown volet" in note for note in report.notes)
    assert len(report.schematrons) == 5
    assert report.to_json()["volet"] is None
