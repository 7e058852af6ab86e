"""Assertions on artifacts (``preuve`` in a rule): an XPath on a CDA, a header of an e-mail, a ZIP's entries.

Artifacts are untrusted (an editor's documents): XML is parsed without entities or network and with a size bound,
ZIPs are only listed (never extracted), e-mails are parsed with the standard library's policy.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
from pathlib import Path

from lxml import etree

from rules.model import ProofCheck

MAX_ARTIFACT_BYTES = 64 * 1024 * 1024
NAMESPACES = {"hl7": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class ArtifactUnavailable(Exception):
    """The artifact is not where the trace says: the check cannot be made (non évalué), not failed."""


def _read(base: Path | None, relative: str) -> bytes:
    if base is None:
        raise ArtifactUnavailable(f"{relative}: no artifact directory given")
    path = (base / relative).resolve()
    if base.resolve() not in path.parents:
        raise ArtifactUnavailable(f"{relative}: outside the bundle")
    if not path.is_file():
        raise ArtifactUnavailable(f"{relative}: missing")
    if path.stat().st_size > MAX_ARTIFACT_BYTES:
        raise ArtifactUnavailable(f"{relative}: larger than {MAX_ARTIFACT_BYTES} bytes")
    return path.read_bytes()


def check(proof: ProofCheck, artifacts: tuple[str, ...], base: Path | None) -> tuple[bool, str]:
    """(holds, explanation) for the first artifact whose path matches ``proof.artifact``."""
    candidates = [a for a in artifacts if not proof.artifact or re.search(proof.artifact, a)]
    if not candidates:
        raise ArtifactUnavailable(f"no artifact matching {proof.artifact or 'any'!r} on the event")
    relative = candidates[0]
    content = _read(base, relative)
    if proof.kind == "xpath":
        try:
            root = etree.fromstring(content, _PARSER)
        except etree.XMLSyntaxError as error:
            return False, f"{relative}: not well-formed XML ({error})"
        result = root.xpath(proof.expression, namespaces=NAMESPACES)
        holds = bool(result) if not isinstance(result, float) else result != 0
        return holds, f"{relative}: XPath {proof.expression} is {'true' if holds else 'false'}"
    if proof.kind == "entete":
        message = email.message_from_bytes(content, policy=email.policy.default)
        values = message.get_all(proof.expression) or []
        if proof.attendu is None:
            return bool(values), f"{relative}: header {proof.expression} {'present' if values else 'absent'}"
        holds = any(re.search(proof.attendu, str(v)) for v in values)
        return (
            holds,
            f"{relative}: header {proof.expression}={values!r} {'matches' if holds else 'does not match'} {proof.attendu!r}",
        )
    try:
        names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    except zipfile.BadZipFile:
        return False, f"{relative}: not a ZIP archive"
    wanted = [p.strip() for p in proof.expression.split(",") if p.strip()]
    missing = [w for w in wanted if not any(re.fullmatch(w, n) for n in names)]
    return (
        not missing,
        f"{relative}: ZIP entries {'complete' if not missing else 'missing ' + ', '.join(missing)}",
    )
