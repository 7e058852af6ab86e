"""Reading a received CR-GM: the CI-SIS example, and hostile or broken documents refused with the XPath."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcc.cda_input import crgm
from dcc.cda_input.crgm import CdaInputError, parse_crgm

EXAMPLE = Path("/work/shared/ci-sis/testcontenucda/ExemplesCDA/CANCER-CR-GM_2022.01_AnalyseRealisee.xml")
HEAD = '<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3" extension="9"/><code code="{code}"/>'
CONCLUSION = (
    '<component><structuredBody><component><section><code code="22637-3"/>'
    "<text>{text}</text></section></component></structuredBody></component>"
)


def document(
    code: str = crgm.CRGM_CODE, text: str = "<list><item>BRAF V600E</item></list>", body: str | None = None
):
    return (
        HEAD.format(code=code)
        + (CONCLUSION.format(text=text) if body is None else body)
        + "</ClinicalDocument>"
    ).encode()


def test_ci_sis_example_gives_its_conclusion():
    read = parse_crgm(EXAMPLE.read_bytes())
    assert read.document_id == "1.2.250.1.213.1.1.1.32.2022.2.1" and read.version == 1
    assert read.patient_ins == "279035121518989"
    lines = read.conclusion.splitlines()
    assert lines[0].startswith("Présence de la mutation c.2573T>G du gène EGFR")
    assert len(lines) == 7 and all("  " not in line for line in lines)
    assert "Pas de commentaire" not in read.conclusion  # commented-out items are not text


def test_minimal_document():
    read = parse_crgm(document())
    assert (read.document_id, read.conclusion, read.patient_ins) == ("1.2.3^9", "BRAF V600E", None)


@pytest.mark.parametrize(
    ("data", "reason", "xpath"),
    [
        (b"<ClinicalDocument", "not_xml", "/ (line 1)"),
        (b"<html/>", "not_cda", crgm.X_ROOT),
        (document(code="11526-1"), "not_crgm", crgm.X_CODE),
        (document(body=""), "no_conclusion", crgm.X_CONCLUSION),
        (document(text=""), "empty_conclusion", f"{crgm.X_CONCLUSION}/hl7:text"),
        (
            document().replace(b'<id root="1.2.3" extension="9"/>', b""),
            "no_id",
            crgm.X_ID,
        ),
        (
            document().replace(
                b'<code code="51969-4"/>', b'<code code="51969-4"/><versionNumber value="x"/>'
            ),
            "bad_version",
            crgm.X_VERSION,
        ),
    ],
)
def test_refusals_name_the_xpath(data, reason, xpath):
    with pytest.raises(CdaInputError) as refused:
        parse_crgm(data)
    assert (refused.value.reason, refused.value.xpath) == (reason, xpath)
    assert str(refused.value).startswith(xpath)


def test_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'.encode() + document(
        text="&x;"
    )
    with pytest.raises(CdaInputError) as refused:
        parse_crgm(xxe)
    assert refused.value.reason in ("doctype_refused", "not_xml")
    assert "TOP-SECRET" not in str(refused.value)


def test_entity_expansion_bomb_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8))
        + b"]>"
        + document(text="&i;")
    )
    with pytest.raises(CdaInputError) as refused:
        parse_crgm(bomb)
    assert refused.value.reason in ("doctype_refused", "not_xml")


def test_size_bound(monkeypatch):
    monkeypatch.setattr(crgm, "MAX_BYTES", 100)
    with pytest.raises(CdaInputError) as refused:
        parse_crgm(document())
    assert refused.value.reason == "too_large"
