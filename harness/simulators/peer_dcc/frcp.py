"""What the peer DCC does to a received FRCP (cahier des charges §2.1.4): the receiving region completes the
FRCP with the RCP's outcome, validates it and sends the new version back.

In CDA terms (NATIONAL-SERVICES §6, CI-SIS): same ``setId``, a new ``id``, ``versionNumber`` + 1, a
``relatedDocument typeCode="RPLC"`` naming the version it replaces, the FR-Statut-du-document section
(1.2.250.1.213.1.1.2.35) set to SNOMED CT 9571008 (« approuvé », i.e. statut validé, jdv-statut-document-cisis)
and the custodian set to the peer's organisation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from harness.simulators.mss.cda import (
    NS,
    STATUS_DISPLAY,
    STATUS_SECTION,
    CdaError,
    CdaHeader,
    parse,
    read_header,
)

V3 = "{urn:hl7-org:v3}"
VALIDE_CODE = "9571008"


def _child(parent: etree._Element, tag: str, before: tuple[str, ...] = ()) -> etree._Element:
    found = parent.find(f"cda:{tag}", NS)
    if found is not None:
        return found
    element = etree.Element(V3 + tag)
    for name in before:
        anchor = parent.find(f"cda:{name}", NS)
        if anchor is not None:
            anchor.addprevious(element)
            return element
    parent.append(element)
    return element


def validate_frcp(
    content: bytes, *, custodian_finess: str, custodian_name: str, now: datetime | None = None
) -> tuple[bytes, CdaHeader, CdaHeader]:
    """The validated next version of an FRCP au statut « complété », with the header before and after.

    Raises :class:`CdaError` naming the XPath when the document is not an FRCP or not « complété »."""
    tree = parse(content)
    before = read_header(tree)
    doc = tree.getroot()
    if before.type_code != "34794-8":
        raise CdaError(f"/ClinicalDocument/code/@code: {before.type_code!r} is not an FRCP (LOINC 34794-8)")
    if before.set_id is None or before.version is None:
        raise CdaError("/ClinicalDocument/setId, versionNumber: required to issue a new version")
    if before.status != "complete":
        raise CdaError(
            f"section[templateId/@root='{STATUS_SECTION}']: statut {before.status!r}, an FRCP is "
            "exchanged between DCC only au statut « complété » (§2.1.4)"
        )
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S+0000")
    version = before.version + 1
    old_id = doc.find("cda:id", NS)
    old_root, old_ext = old_id.get("root"), old_id.get("extension")  # type: ignore[union-attr]
    set_id = doc.find("cda:setId", NS)
    old_id.set("root", set_id.get("root"))  # type: ignore[union-attr]
    old_id.set("extension", f"{set_id.get('extension') or 'v'}.{version}")  # type: ignore[union-attr]
    doc.find("cda:versionNumber", NS).set("value", str(version))  # type: ignore[union-attr]
    effective = doc.find("cda:effectiveTime", NS)
    if effective is not None:
        effective.set("value", stamp)
    for related in doc.findall("cda:relatedDocument", NS):
        doc.remove(related)
    related = etree.Element(V3 + "relatedDocument", typeCode="RPLC")
    parent = etree.SubElement(related, V3 + "parentDocument")
    previous = etree.SubElement(parent, V3 + "id", root=old_root or "")
    if old_ext:
        previous.set("extension", old_ext)
    anchor = doc.find("cda:authorization", NS)
    if anchor is None:
        anchor = doc.find("cda:componentOf", NS)
    if anchor is None:
        anchor = doc.find("cda:component", NS)
    anchor.addprevious(related)  # type: ignore[union-attr]
    _set_custodian(doc, custodian_finess, custodian_name)
    _set_status(doc, stamp)
    out = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return out, before, read_header(parse(out))


def _set_custodian(doc: etree._Element, finess: str, name: str) -> None:
    custodian = doc.find("cda:custodian", NS)
    if custodian is None:
        raise CdaError("/ClinicalDocument/custodian: missing")
    for child in list(custodian):
        custodian.remove(child)
    assigned = etree.SubElement(custodian, V3 + "assignedCustodian")
    org = etree.SubElement(assigned, V3 + "representedCustodianOrganization")
    etree.SubElement(org, V3 + "id", root="1.2.250.1.71.4.2.2", extension="1" + finess)
    etree.SubElement(org, V3 + "name").text = name


def _set_status(doc: etree._Element, stamp: str) -> None:
    sections = doc.xpath(f"//cda:section[cda:templateId/@root='{STATUS_SECTION}']", namespaces=NS)
    value = sections[0].find("cda:entry/cda:observation/cda:value", NS)
    if value is None:
        raise CdaError(f"section[templateId/@root='{STATUS_SECTION}']/entry/observation/value: missing")
    value.set("code", VALIDE_CODE)
    value.set("displayName", STATUS_DISPLAY["valide"])
    observation = value.getparent()
    effective = observation.find("cda:effectiveTime", NS)
    if effective is not None:
        effective.set("value", stamp[:8])
    for cell in sections[0].iter(V3 + "td"):
        if (cell.text or "").strip() in {"en cours", "complété", "réalisé"}:
            cell.text = "validé"
