"""Parsing an untrusted CDA: no DTD, no entities, no network, bounded size and depth.

A CDA never carries a DOCTYPE, so one is refused outright: that stops XXE and entity expansion ("billion
laughs") before any parser sees an entity, and Saxon gets a re-serialised copy with no DOCTYPE at all.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

MAX_BYTES = 50 * 1024 * 1024  # the largest CDA N3 with an embedded PDF we expect is a few MB


class UnsafeDocument(Exception):
    """The input is not a well-formed, safe XML document within the limits."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )


def read_bytes(source: str | Path | bytes, max_bytes: int = MAX_BYTES) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as error:
            raise UnsafeDocument(f"cannot read: {error.strerror or error}") from error
        if size > max_bytes:
            raise UnsafeDocument(f"file too large: {size} bytes (limit {max_bytes})")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeDocument(f"document too large: more than {max_bytes} bytes")
    return data


def parse(data: bytes) -> etree._ElementTree:
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data[:65536] or b"<!ENTITY" in data[:65536]:
        raise UnsafeDocument("DOCTYPE/ENTITY declarations are not allowed in a CDA document")
    if not head.startswith(b"<") and not head.startswith(b"\xef\xbb\xbf<"):
        raise UnsafeDocument("not XML: the document does not start with '<'")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as error:
        raise UnsafeDocument(f"not well-formed XML: {error}") from error
    if tree.docinfo.doctype:
        raise UnsafeDocument("DOCTYPE declarations are not allowed in a CDA document")
    return tree
