"""HTML rendering of an FRCP or PPS CDA for a person: the header (patient, author, status) and each section's
narrative block, in document order. Our own code over the CDA (the CI-SIS narrative block is a small, closed
vocabulary), so it needs no third-party stylesheet; ``stylesheet=`` applies a user-given XSLT 1.0 instead (for
example the ANS generic stylesheet the user downloaded, PRES.03) — the ANS stylesheets are not shipped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from lxml import etree

from dcc.cda.inspect import NS, PARSER

HL7 = "{urn:hl7-org:v3}"
BLOCKS = {
    "paragraph": "p",
    "content": "span",
    "table": "table",
    "thead": "thead",
    "tbody": "tbody",
    "tfoot": "tfoot",
    "tr": "tr",
    "th": "th",
    "td": "td",
    "caption": "caption",
    "list": "ul",
    "item": "li",
    "sub": "sub",
    "sup": "sup",
    "br": "br",
}
CELL_ATTRIBUTES = ("colspan", "rowspan")


def _narrative(element: etree._Element) -> str:
    """Narrative block → HTML; unknown elements keep their text only, every text is escaped."""
    out = [escape(element.text or "")]
    for child in element:
        if not isinstance(child.tag, str):
            out.append(escape(child.tail or ""))
            continue
        local = etree.QName(child).localname
        tag = BLOCKS.get(local)
        if local == "list" and child.get("listType") == "ordered":
            tag = "ol"
        if local == "renderMultiMedia":
            out.append(f"<em>[document joint {escape(child.get('referencedObject', ''))}]</em>")
        elif local == "linkHtml" and (child.get("href") or "").startswith(("http://", "https://")):
            out.append(f'<a href="{escape(child.get("href"))}">{_narrative(child)}</a>')
        elif tag == "br":
            out.append("<br>")
        elif tag:
            attributes = "".join(
                f' {name}="{escape(child.get(name))}"' for name in CELL_ATTRIBUTES if child.get(name)
            )
            styles = (child.get("styleCode") or "").lower()
            if "bold" in styles:
                attributes += ' style="font-weight:bold"'
            out.append(f"<{tag}{attributes}>{_narrative(child)}</{tag}>")
        else:
            out.append(_narrative(child))
        out.append(escape(child.tail or ""))
    return "".join(out)


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    joined = found if isinstance(found, str) else " ".join(str(x) for x in found)
    return " ".join(joined.split())


# a user's stylesheet may read the files next to it (the ANS one reads its own resources), never the network (the
# parser refuses it too), and writes nothing
STYLESHEET_ACCESS = etree.XSLTAccessControl(
    read_file=True, write_file=False, create_dir=False, read_network=False, write_network=False
)


def render(cda: bytes, stylesheet: str | Path | None = None) -> str:
    root = etree.fromstring(cda, PARSER)
    if root.tag != f"{HL7}ClinicalDocument":  # a self-presenting CDA: the ClinicalDocument inside the wrapper
        root = next(root.iter(f"{HL7}ClinicalDocument"), root)
    if stylesheet is not None:
        transform = etree.XSLT(etree.parse(str(stylesheet), PARSER), access_control=STYLESHEET_ACCESS)
        return str(transform(root))
    patient = "hl7:recordTarget/hl7:patientRole/hl7:patient"
    title = _text(root, "hl7:title//text()")
    rows = [
        (
            "Patient",
            _text(root, f"{patient}/hl7:name/hl7:family//text()")
            + " "
            + _text(root, f"{patient}/hl7:name/hl7:given[not(@qualifier)]//text()"),
        ),
        ("Date de naissance", _format_ts(_text(root, f"string({patient}/hl7:birthTime/@value)"))),
        (
            "INS",
            _text(
                root,
                "string(hl7:recordTarget/hl7:patientRole/hl7:id[starts-with(@root, '1.2.250.1.213.1.4.')]/@extension)",
            )
            or "—",
        ),
        ("Auteur", _text(root, "hl7:author/hl7:assignedAuthor/hl7:assignedPerson/hl7:name//text()")),
        ("Date du document", _format_ts(_text(root, "string(hl7:effectiveTime/@value)"))),
        ("Version", _text(root, "string(hl7:versionNumber/@value)")),
    ]
    parts = [
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}"
        "h2{color:#1d3b6a;border-bottom:1px solid #1d3b6a}</style></head><body>",
        f"<h1>{escape(title)}</h1><table class='entete'>",
        *(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows),
        "</table>",
    ]
    body = root.find("hl7:component/hl7:nonXMLBody", NS)
    if body is not None:
        parts.append("<p><em>Document non structuré (CDA R2 N1) : voir le PDF joint.</em></p>")
    for section in root.iterfind("hl7:component/hl7:structuredBody/hl7:component/hl7:section", NS):
        parts.append(_section(section, 2))
    parts.append("</body></html>")
    return "".join(parts)


def _section(section: etree._Element, level: int) -> str:
    title = " ".join("".join(section.findtext("hl7:title", "", NS)).split())
    text = section.find("hl7:text", NS)
    inner = _narrative(text) if text is not None else ""
    nested = "".join(
        _section(s, min(level + 1, 6)) for s in section.iterfind("hl7:component/hl7:section", NS)
    )
    return f"<section><h{level}>{escape(title)}</h{level}>{inner}{nested}</section>"


def _format_ts(value: str) -> str:
    return f"{value[6:8]}/{value[4:6]}/{value[0:4]}" if len(value) >= 8 else value
