"""The Schematron → XSLT 3 compiler on tiny hand-written schematrons: exact failed asserts expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from saxonche import PySaxonProcessor

from harness.cda.cache import SchematronCache
from harness.cda.schematron import compile_schematron, parse_svrl
from harness.cda.schematron.include import SchematronError

HEAD = '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2"{extra}><ns prefix="c" uri="urn:c"/>'
DOC = """<r xmlns="urn:c"><item code="A"/><item code="B"/><item code="Z"/><box><item code="B"/></box></r>"""


@pytest.fixture(scope="module")
def saxon() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


def _run(saxon: PySaxonProcessor, sch: Path, doc: str = DOC, phase: str | None = None) -> list[tuple]:
    compiled = compile_schematron(sch, phase)
    executable = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_text=compiled.xslt)
    out = executable.transform_to_string(xdm_node=saxon.parse_xml(xml_text=doc))
    return [(f.kind, f.id, f.role, f.location, f.text) for f in parse_svrl(out, sch.name)]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_lets_functions_and_first_matching_rule(saxon: PySaxonProcessor, tmp_path: Path) -> None:
    sch = _write(
        tmp_path / "s.sch",
        HEAD.format(extra=' xmlns:f="urn:f" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"')
        + """
      <let name="allowed" value="('A', 'B')"/>
      <xsl:function name="f:ok" as="xs:boolean" xmlns:xs="http://www.w3.org/2001/XMLSchema">
        <xsl:param name="code"/><xsl:sequence select="$code = $allowed"/>
      </xsl:function>
      <pattern id="p1">
        <rule context="c:box/c:item"><assert id="inbox" test="false()">item in box</assert></rule>
        <rule context="c:item">
          <let name="code" value="@code"/>
          <assert id="code-ok" role="error" test="f:ok($code)">bad code <value-of select="$code"/> on <name/></assert>
          <report id="is-b" role="info" test="$code = 'B'">B here</report>
        </rule>
      </pattern>
    </schema>""",
    )
    assert _run(saxon, sch) == [
        ("report", "is-b", "info", "/r[1]/item[2]", "B here"),
        ("assert", "code-ok", "error", "/r[1]/item[3]", "bad code Z on item"),
        ("assert", "inbox", None, "/r[1]/box[1]/item[1]", "item in box"),
    ]


def test_includes_and_abstract_patterns_and_rules(saxon: PySaxonProcessor, tmp_path: Path) -> None:
    _write(
        tmp_path / "abstract" / "inList.sch",
        """
      <pattern xmlns="http://purl.oclc.org/dsdl/schematron" abstract="true" id="inList">
        <rule context="$elt"><assert id="in-list" test="@code = $codes">$name: <value-of select="@code"/></assert></rule>
      </pattern>""",
    )
    _write(
        tmp_path / "include" / "items.sch",
        """
      <pattern xmlns="http://purl.oclc.org/dsdl/schematron" is-a="inList" id="items">
        <param name="elt" value="c:r/c:item"/><param name="codes" value="('A','Z')"/><param name="name" value="'x'"/>
      </pattern>""",
    )
    sch = _write(
        tmp_path / "main.sch",
        HEAD.format(extra="")
        + """
      <include href="abstract/inList.sch"/>
      <include href="include/items.sch"/>
      <pattern id="ext">
        <rule abstract="true" id="has-code"><assert id="has-code" test="@code">no code</assert></rule>
        <rule context="c:box"><extends rule="has-code"/></rule>
      </pattern>
    </schema>""",
    )
    assert _run(saxon, sch) == [
        ("assert", "in-list", None, "/r[1]/item[2]", "$name: B"),  # params substitute queries, not text
        ("assert", "has-code", None, "/r[1]/box[1]", "no code"),
    ]


def test_phases_select_patterns(saxon: PySaxonProcessor, tmp_path: Path) -> None:
    sch = _write(
        tmp_path / "phases.sch",
        HEAD.format(extra=' defaultPhase="one"')
        + """
      <phase id="one"><active pattern="a"/></phase>
      <phase id="two"><active pattern="b"/></phase>
      <pattern id="a"><rule context="c:r"><assert id="a" test="false()">A</assert></rule></pattern>
      <pattern id="b"><rule context="c:r"><assert id="b" test="false()">B</assert></rule></pattern>
    </schema>""",
    )
    assert [f[1] for f in _run(saxon, sch)] == ["a"]
    assert [f[1] for f in _run(saxon, sch, phase="two")] == ["b"]
    assert [f[1] for f in _run(saxon, sch, phase="#ALL")] == ["a", "b"]
    with pytest.raises(SchematronError, match="phase 'three' not found"):
        compile_schematron(sch, "three")


def test_document_loads_are_relative_to_the_schematron(saxon: PySaxonProcessor, tmp_path: Path) -> None:
    _write(tmp_path / "jdv" / "codes.xml", '<list><c code="A"/><c code="B"/></list>')
    sch = _write(
        tmp_path / "sch" / "vs.sch",
        HEAD.format(extra="")
        + """
      <pattern id="vs">
        <let name="jdv" value="'../jdv/codes.xml'"/>
        <rule context="c:item"><assert id="vs" test="@code = document($jdv)//c/@code">out <value-of select="@code"/></assert></rule>
      </pattern>
    </schema>""",
    )
    assert [f[4] for f in _run(saxon, sch)] == ["out Z"]


def test_missing_include_is_a_clear_error(tmp_path: Path) -> None:
    sch = _write(tmp_path / "m.sch", HEAD.format(extra="") + '<include href="nope.sch"/></schema>')
    with pytest.raises(SchematronError, match=r"included file not found: nope\.sch"):
        compile_schematron(sch)


def test_cache_is_reused_and_invalidated_by_an_included_file(tmp_path: Path) -> None:
    inc = _write(
        tmp_path / "inc.sch",
        """<pattern xmlns="http://purl.oclc.org/dsdl/schematron" id="p">
        <rule context="c:r"><assert test="true()">ok</assert></rule></pattern>""",
    )
    sch = _write(tmp_path / "main.sch", HEAD.format(extra="") + '<include href="inc.sch"/></schema>')
    first = SchematronCache(tmp_path / "cache")
    key1, xslt1 = first.get(sch)
    assert first.generated == 1
    second = SchematronCache(tmp_path / "cache")  # a new process would do the same
    assert second.get(sch) == (key1, xslt1)
    assert second.generated == 0
    inc.write_text(inc.read_text().replace("true()", "false()"))
    key2, xslt2 = second.get(sch)
    assert second.generated == 1 and key2 != key1 and "false()" in xslt2


def test_second_validator_does_not_regenerate(cda_cache_dir: Path, validator) -> None:
    from harness.cda import Validator

    validator.executable("CI-SIS_CANCER-PPS_2025.01.sch")
    again = Validator(cache_dir=cda_cache_dir)
    again.cache.get(again.cisis.schematrons / "CI-SIS_CANCER-PPS_2025.01.sch")
    assert again.cache.generated == 0


def test_keyed_patterns_find_the_same_failures_as_full_walks(
    saxon: PySaxonProcessor, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The templateId-key shortcut must not change results: compare with one full walk per pattern."""
    import random

    from lxml import etree

    import harness.cda.schematron.compile as compiler

    sch = examples.parent / "schematrons" / "profils" / "CI-SIS_Modeles_ANS.sch"
    tree = etree.parse(str(examples / "CANCER-FRCP_2025.01_Appareil.xml"))
    rng = random.Random(7)
    elements = [e for e in tree.getroot().iter() if isinstance(e.tag, str)][1:]
    for element in rng.sample(elements, len(elements) // 10):
        if element.getparent() is not None and rng.random() < 0.5:
            element.getparent().remove(element)
        else:
            element.attrib.clear()
    doc = etree.tostring(tree, encoding="unicode")
    keyed = _run(saxon, sch, doc)
    assert "key('schx-tid'" in compile_schematron(sch).xslt
    monkeypatch.setattr(compiler, "_candidates", lambda rules, namespaces: None)
    walked = _run(saxon, sch, doc)
    assert "key('schx-tid'" not in compile_schematron(sch).xslt
    assert len(keyed) > 3
    assert sorted(keyed) == sorted(walked)


def test_document_calls_use_the_preloaded_map(saxon: PySaxonProcessor, tmp_path: Path) -> None:
    """Value sets parsed once by the Validator are what document() returns: same URI form as resolve-uri()."""
    from harness.cda.schematron.compile import PRELOADED_PARAM
    from harness.cda.validate import preload_candidates

    jdv = _write(tmp_path / "jdv" / "codes.xml", '<list><c code="A"/><c code="B"/></list>')
    sch = _write(
        tmp_path / "sch" / "vs.sch",
        HEAD.format(extra="")
        + """
      <pattern id="vs">
        <let name="jdv" value="'../jdv/codes.xml'"/>
        <rule context="c:item"><assert id="vs" test="@code = document($jdv)//c/@code">out <value-of select="@code"/></assert></rule>
      </pattern>
    </schema>""",
    )
    compiled = compile_schematron(sch)
    assert preload_candidates(compiled.xslt, sch) == [jdv.resolve()]
    executable = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_text=compiled.xslt)
    in_memory = saxon.parse_xml(xml_text='<list><c code="Z"/></list>')  # differs from the file on disk
    uri = jdv.resolve().as_uri().replace("file:///", "file:/", 1)
    executable.set_parameter(PRELOADED_PARAM, saxon.make_map2({uri: in_memory}))
    out = executable.transform_to_string(xdm_node=saxon.parse_xml(xml_text=DOC))
    assert sorted(f.text for f in parse_svrl(out, "vs")) == ["out A", "out B", "out B"]
