"""Small lxml helpers for HL7 CDA: one namespace, attributes in document order, deterministic UUIDs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from lxml import etree

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {None: HL7, "xsi": XSI}
XSI_TYPE = f"{{{XSI}}}type"

LOINC = "2.16.840.1.113883.6.1"
SNOMED = "2.16.840.1.113883.6.96"
CISIS = "1.2.250.1.213.1.1.4.322"  # TerminologieCISIS
NCIT = "2.16.840.1.113883.3.26.1.1"
RPPS_ROOT = "1.2.250.1.71.4.2.1"  # IdNat PS
FINESS_ROOT = "1.2.250.1.71.4.2.2"  # IdNat structure


def q(tag: str) -> str:
    return f"{{{HL7}}}{tag}"


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str | None) -> etree._Element:
    """A child ``tag`` with the non-None attributes in the order given (``xsi_type`` → ``xsi:type``)."""
    element = etree.SubElement(parent, q(tag))
    for name, value in attrs.items():
        if value is None:
            continue
        key = XSI_TYPE if name == "xsi_type" else name.rstrip("_")
        element.set(key, str(value))
    if text is not None:
        element.text = text
    return element


def ts(value: datetime | date) -> str:
    """HL7 TS: YYYYMMDDHHMMSS+ZZZZ for a datetime (UTC when naive), YYYYMMDD for a date."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value.strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d")


class Ids:
    """UUIDs derived from the document id and a counter: the same document gives the same bytes."""

    def __init__(self, seed: str) -> None:
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, seed)
        self._n = 0

    def next(self) -> str:
        self._n += 1
        return str(uuid.uuid5(self._namespace, str(self._n))).upper()

    def anchor(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"
