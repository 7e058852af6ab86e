"""Step 3 of the ISO pipeline: turn an expanded schematron into one XSLT 3 stylesheet that writes SVRL.

Semantics follow ISO/IEC 19757-3 as the ANS chain (ISO skeleton for XSLT 2) applies them:
- one traversal per active pattern, in document order, each in its own mode; within a pattern a node is
  checked by the first rule whose context matches it (template priorities decrease with rule order);
- schema, phase and pattern ``let`` become global variables (the ANS value-set paths are pattern lets that
  other patterns read); rule ``let`` become local variables;
- the phase is ``defaultPhase`` unless one is asked for; without one every pattern is active (``#ALL``);
- ``xsl:function``, ``xsl:key`` and other XSLT elements at the top of the schema are copied as they are;
- the stylesheet carries ``xml:base`` = the schematron's URI, so ``document('../jeuxDeValeurs/...')`` resolves
  relative to the .sch file exactly as when the compiled XSLT sits next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from harness.cda.schematron.abstract import expand_abstract_patterns, expand_abstract_rules
from harness.cda.schematron.include import SCH, SCH_NS, SchematronError, expand_includes

COMPILER_VERSION = "6"  # part of every cache key: bump when the generated XSLT changes

XSL_NS = "http://www.w3.org/1999/XSL/Transform"
XSL = f"{{{XSL_NS}}}"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
SVRL = f"{{{SVRL_NS}}}"
SCHX_NS = "urn:dcc-recette:schematron"  # our helper functions
XS_NS = "http://www.w3.org/2001/XMLSchema"
CDA_NS = "urn:hl7-org:v3"
MAP_NS = "http://www.w3.org/2005/xpath-functions/map"
_RESERVED = {
    "xsl": XSL_NS,
    "svrl": SVRL_NS,
    "schx": SCHX_NS,
    "map": MAP_NS,
    "xml": "http://www.w3.org/XML/1998/namespace",
}
PRELOADED_PARAM = "schx_preloaded"

# document()/doc()/doc-available() go through schx: functions that first look in a map of documents the
# Validator parsed once (value sets, code systems): Saxon HE otherwise re-reads them in every transformation.
_DOC_CALL = re.compile(r"(?<![\w:.\-])(document|doc|doc-available)(\s*\()")
_DOC_FUNCTIONS = """
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:schx="urn:dcc-recette:schematron"
    xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:map="http://www.w3.org/2005/xpath-functions/map">
  <xsl:param name="schx_preloaded" as="map(xs:string, document-node())" select="map{}"/>
  <xsl:function name="schx:uri" as="xs:string">
    <xsl:param name="uri" as="xs:string"/>
    <xsl:sequence select="replace(string(resolve-uri($uri, static-base-uri())), '^file:///', 'file:/')"/>
  </xsl:function>
  <xsl:function name="schx:doc" as="document-node()?">
    <xsl:param name="uri" as="xs:string?"/>
    <xsl:sequence select="if (empty($uri)) then () else
        (let $a := schx:uri($uri) return if (map:contains($schx_preloaded, $a)) then $schx_preloaded($a) else doc($a))"/>
  </xsl:function>
  <xsl:function name="schx:doc-available" as="xs:boolean">
    <xsl:param name="uri" as="xs:string?"/>
    <xsl:sequence select="if (empty($uri)) then false() else
        (let $a := schx:uri($uri) return map:contains($schx_preloaded, $a) or doc-available($a))"/>
  </xsl:function>
  <xsl:function name="schx:document" as="node()*">
    <xsl:param name="uris" as="item()*"/>
    <xsl:sequence select="for $u in $uris return
        if ($u instance of node()) then document($u) else schx:doc(string($u))"/>
  </xsl:function>
</xsl:stylesheet>
"""
_DOC_ATTRIBUTES = ("test", "select", "value")


def _route_document_calls(schema: etree._Element) -> None:
    for element in schema.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(SCH):
            continue
        for attribute in _DOC_ATTRIBUTES:
            value = element.get(attribute)
            if value and "doc" in value:
                element.set(attribute, _DOC_CALL.sub(r"schx:\1\2", value))


_PATH_FUNCTION = """
<xsl:function xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:schx="urn:dcc-recette:schematron"
    name="schx:path" as="xs:string" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xsl:param name="node" as="node()"/>
  <xsl:sequence select="string-join(for $a in $node/ancestor-or-self::* return
      concat('/', name($a), '[', count($a/preceding-sibling::*[node-name(.) = node-name($a)]) + 1, ']'), '')
      || (if ($node instance of attribute()) then concat('/@', name($node)) else '')"/>
</xsl:function>
"""


@dataclass(frozen=True)
class CompiledSchematron:
    """The generated XSLT and the files it was generated from (for the cache key)."""

    source: Path
    xslt: str
    files: list[Path] = field(default_factory=list)
    phase: str = "#ALL"
    patterns: int = 0
    asserts: int = 0


def _namespaces(schema: etree._Element) -> dict[str, str]:
    namespaces: dict[str, str] = {"xs": XS_NS}
    for ns in schema.iter(f"{SCH}ns"):
        prefix, uri = ns.get("prefix"), ns.get("uri")
        if prefix and uri and prefix not in _RESERVED:
            namespaces.setdefault(prefix, uri)
    for element in schema.iter():
        if not isinstance(element.tag, str):
            continue
        for prefix, uri in element.nsmap.items():
            if prefix and prefix not in _RESERVED and uri != SCH_NS:
                namespaces.setdefault(prefix, uri)
    return namespaces


def _active_patterns(schema: etree._Element, phase: str | None) -> tuple[str, list[etree._Element], list]:
    patterns = [p for p in schema.iter(f"{SCH}pattern") if p.get("abstract") != "true"]
    chosen = phase or schema.get("defaultPhase") or "#ALL"
    if chosen == "#ALL":
        return chosen, patterns, []
    phases = {p.get("id"): p for p in schema.iter(f"{SCH}phase")}
    if chosen not in phases:
        if phase is None:  # a defaultPhase naming no phase: the ISO skeleton falls back to every pattern
            return "#ALL", patterns, []
        raise SchematronError(f"phase {chosen!r} not found (phases: {sorted(k for k in phases if k)})")
    active = [a.get("pattern") for a in phases[chosen].findall(f"{SCH}active")]
    by_id = {p.get("id"): p for p in patterns if p.get("id")}
    missing = [a for a in active if a not in by_id]
    if missing:
        raise SchematronError(f"phase {chosen!r}: active pattern(s) not found: {', '.join(missing)}")
    wanted = set(active)
    return chosen, [p for p in patterns if p.get("id") in wanted], phases[chosen].findall(f"{SCH}let")


# ``*[cda:templateId/@root='X']``, ``cda:section[cda:templateId/@root='X']/cda:entry/cda:observation/cda:value``:
# the shape of almost every ANS rule context. Such a rule can only fire on an element having that templateId (or
# reached from one by the child steps that follow), so a pattern made only of them visits
# ``key('schx-tid', 'X')/steps`` instead of walking the whole document once more. The template's match pattern
# still decides, so the select only has to be a superset; ``test_keyed_patterns_*`` checks nothing changes.
_PRED = r"(?:\[[^\[\]]*\])"
_TEMPLATE_CONTEXT = re.compile(
    r"""^\s*(\*|[\w.-]+:[\w.-]+)\[\s*([\w.-]+):templateId/@root\s*=\s*(['"])([^'"]+)\3\s*\]"""
    rf"({_PRED}*)((?:/(?:[\w.-]+:[\w.-]+|\*){_PRED}*)*)\s*$"
)


def _candidate(context: str, namespaces: dict[str, str]) -> str:
    match = _TEMPLATE_CONTEXT.match(context)
    if match is not None and namespaces.get(match.group(2)) == CDA_NS:
        first, root, rest = match.group(1), match.group(4), match.group(6)
        step = "" if first == "*" else f"[self::{first}]"
        return f"key('schx-tid', '{root}'){step}{rest}"
    stripped = context.strip()
    if stripped.startswith("/") and "|" not in stripped:
        return stripped  # an absolute path selects exactly the nodes it matches
    # XSLT 2.0 §5.5.3: a node matches pattern P when it is in root(.)//(P)
    return f"//({stripped})"


def _candidates(rules: list[etree._Element], namespaces: dict[str, str]) -> str | None:
    """An XPath selecting every node a rule of the pattern can match (elements, as the walk visits), or None.

    Visiting these nodes, instead of walking the whole document once per pattern, is what makes the profiles
    affordable: the template's match pattern and priority still decide which rule fires, so the select only
    has to be a superset; ``test_keyed_patterns_*`` checks the failures are the same as with a full walk.
    """
    selects: list[str] = []
    for rule in rules:
        context = rule.get("context", "")
        if not context.strip():
            return None
        select = _candidate(context, namespaces)
        if select not in selects:
            selects.append(select)
    if not selects:
        return None
    return "(" + " | ".join(selects) + ")[. instance of element() or . instance of document-node()]"


def _variable(parent: etree._Element, let: etree._Element) -> None:
    variable = etree.SubElement(parent, f"{XSL}variable", name=let.get("name", ""))
    if let.get("value") is not None:
        variable.set("select", let.get("value"))
    else:
        for child in let:
            variable.append(_copy(child))


def _copy(element: etree._Element) -> etree._Element:
    clone = etree.fromstring(etree.tostring(element))
    clone.tail = None
    return clone


def _message(parent: etree._Element, source: etree._Element) -> None:
    """Assert/report text with its ``value-of`` and ``name`` turned into XSLT (emph, dir, span keep their text)."""
    parent.text = source.text
    for child in source:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{SCH}value-of":
            node = etree.SubElement(parent, f"{XSL}value-of", select=child.get("select", "."))
        elif child.tag == f"{SCH}name":
            node = etree.SubElement(parent, f"{XSL}value-of", select=f"name({child.get('path', '.')})")
        else:
            node = etree.SubElement(parent, f"{XSL}text")
            node.text = "".join(child.itertext())
        node.tail = child.tail


def _check(parent: etree._Element, check: etree._Element, pattern_id: str, rule: etree._Element) -> None:
    is_assert = check.tag == f"{SCH}assert"
    test = check.get("test", "true()")
    choose = etree.SubElement(parent, f"{XSL}choose")
    etree.SubElement(choose, f"{XSL}when", test=test if is_assert else f"not({test})")
    fired = etree.SubElement(choose, f"{XSL}otherwise")
    out = etree.SubElement(fired, f"{SVRL}failed-assert" if is_assert else f"{SVRL}successful-report")
    out.set("test", test)
    out.set("pattern", pattern_id)
    for attribute in ("id", "role", "flag"):
        value = check.get(attribute) or (rule.get(attribute) if attribute == "role" else None)
        if value:
            out.set(attribute, value)
    location = etree.SubElement(out, f"{XSL}attribute", name="location")
    location.set("select", f"schx:path({check.get('subject') or rule.get('subject') or '.'})")
    text = etree.SubElement(out, f"{SVRL}text")
    _message(text, check)


def build_xslt(schema: etree._Element, source: Path, phase: str | None = None) -> tuple[str, str, int, int]:
    chosen, patterns, phase_lets = _active_patterns(schema, phase)
    namespaces = _namespaces(schema)
    _route_document_calls(schema)
    nsmap = {**namespaces, "xsl": XSL_NS, "svrl": SVRL_NS, "schx": SCHX_NS, "map": MAP_NS}
    root = etree.Element(f"{XSL}stylesheet", nsmap=nsmap)
    root.set("version", "3.0")
    root.set("exclude-result-prefixes", " ".join(p for p in nsmap if p != "svrl"))
    root.set("{http://www.w3.org/XML/1998/namespace}base", source.resolve().as_uri())
    etree.SubElement(root, f"{XSL}output", method="xml", indent="no", encoding="UTF-8")
    for child in schema:
        if isinstance(child.tag, str) and child.tag.startswith(XSL):
            root.append(_copy(child))
    root.append(etree.fromstring(_PATH_FUNCTION))
    root.extend(etree.fromstring(_DOC_FUNCTIONS))
    etree.SubElement(
        root,
        f"{XSL}key",
        name="schx-tid",
        match="*[*:templateId[namespace-uri() = 'urn:hl7-org:v3']]",
        use="*:templateId[namespace-uri() = 'urn:hl7-org:v3']/@root",
    )
    seen: set[str] = set()
    # Global lets: schema, phase, then every concrete pattern (active or not, as the ANS files rely on it).
    lets = list(schema.findall(f"{SCH}let")) + list(phase_lets)
    for pattern in schema.iter(f"{SCH}pattern"):
        lets.extend(pattern.findall(f"{SCH}let"))
    for let in lets:
        name = let.get("name")
        if name and name not in seen:
            seen.add(name)
            _variable(root, let)
    main = etree.SubElement(root, f"{XSL}template", match="/")
    output = etree.SubElement(main, f"{SVRL}schematron-output", phase=chosen)
    title = schema.find(f"{SCH}title")
    output.set("title", " ".join("".join(title.itertext()).split()) if title is not None else "")
    output.set("schemaVersion", schema.get("schemaVersion", ""))
    asserts = 0
    for index, pattern in enumerate(patterns):
        mode = f"M{index}"
        pattern_id = pattern.get("id") or f"pattern-{index}"
        active = etree.SubElement(output, f"{SVRL}active-pattern", id=pattern_id)
        active.tail = None
        rules = [r for r in pattern.findall(f"{SCH}rule") if r.get("abstract") != "true"]
        roots = _candidates(rules, namespaces)
        etree.SubElement(output, f"{XSL}apply-templates", select=roots or "/", mode=mode)
        for position, rule in enumerate(rules):
            template = etree.SubElement(
                root,
                f"{XSL}template",
                match=rule.get("context", "/"),
                mode=mode,
                priority=str(1000 - position),
            )
            for child in rule:
                if not isinstance(child.tag, str):
                    continue
                if child.tag == f"{SCH}let":
                    _variable(template, child)
                elif child.tag in (f"{SCH}assert", f"{SCH}report"):
                    asserts += 1
                    _check(template, child, pattern_id, rule)
            if roots is None:
                etree.SubElement(template, f"{XSL}apply-templates", select="*", mode=mode)
        default = etree.SubElement(root, f"{XSL}template", match="*", mode=mode, priority="-1")
        if roots is None:
            etree.SubElement(default, f"{XSL}apply-templates", select="*", mode=mode)
        etree.SubElement(root, f"{XSL}template", match="text()", mode=mode, priority="-1")
    text = etree.tostring(root, encoding="unicode")
    return text, chosen, len(patterns), asserts


def compile_schematron(path: Path, phase: str | None = None) -> CompiledSchematron:
    """Include, expand abstract patterns and rules, then generate the XSLT 3 text (Saxon compiles it later)."""
    files: list[Path] = []
    schema = expand_includes(Path(path), files)
    if schema.tag != f"{SCH}schema":
        raise SchematronError(f"{path}: root element is not sch:schema")
    expand_abstract_patterns(schema)
    expand_abstract_rules(schema)
    xslt, chosen, patterns, asserts = build_xslt(schema, Path(path), phase)
    return CompiledSchematron(Path(path).resolve(), xslt, files, chosen, patterns, asserts)
