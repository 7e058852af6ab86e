"""Re-checks the content of the evidence, not only its hashes: every CDA artifact (XML whose root is
``ClinicalDocument``) goes through the ANS chain again (``harness.cda.Validator``, as ``cda validate``), every e-mail
artifact (``.eml``) must parse and carry a well-formed IHE XDM zip with the MSS headers (the MSSanté simulator's own
parsing, ``harness.simulators.mss.message``). An editor could have delivered an invalid document that the run's
rules never opened; the region re-validates it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from harness.cda.xmlsafe import UnsafeDocument, parse, read_bytes
from harness.simulators.mss.message import SUBJECT_PREFIX, MessageRefused, analyse
from proofs.findings import Check, Status, Verification

HL7 = "urn:hl7-org:v3"
SNIFF_BYTES = 64 * 1024
MAX_EML_BYTES = 50 * 1024 * 1024
REQUIRED_HEADERS = ("From", "To", "Date", "Message-ID", "Subject")


def is_cda_candidate(path: Path) -> bool:
    """Cheap test before parsing: an XML-looking file that names ClinicalDocument near its start."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"ClinicalDocument" in head


def cda_root(path: Path) -> tuple[bool, str | None]:
    """(is a CDA, why it cannot be read). A file that looks like a CDA but does not parse is reported."""
    try:
        tree = parse(read_bytes(path))
    except (UnsafeDocument, etree.XMLSyntaxError, ValueError, OSError) as error:
        return path.suffix.lower() == ".xml", f"unreadable XML ({error})"
    root = tree.getroot()
    return root.tag == f"{{{HL7}}}ClinicalDocument", None


def check_artifacts(
    files: dict[str, Path],
    owners: Callable[[str], set[str]],
    out: Verification,
    validator_factory: Callable[[], Any],
) -> dict[str, int]:
    """Checks every artifact under ``artifacts/``; returns how many CDA and e-mails were checked."""
    counts = {"cda": 0, "eml": 0}
    validator = None
    unavailable: str | None = None

    def finding(check: Check, message: str, path: str) -> None:
        for requirement in sorted(owners(path)) or [None]:
            out.add(check, Status.A_CORRIGER, message, requirement=requirement, file=path)

    for relative, path in files.items():
        if not relative.startswith("artifacts/"):
            continue
        if path.suffix.lower() == ".eml":
            counts["eml"] += 1
            for problem in check_email(path):
                finding(Check.EMAIL, problem, relative)
            continue
        if not is_cda_candidate(path):
            continue
        is_cda, unreadable = cda_root(path)
        if unreadable:
            if is_cda:
                finding(Check.CDA, f"looks like a CDA but is {unreadable}", relative)
            continue
        if not is_cda:
            continue
        counts["cda"] += 1
        if validator is None and unavailable is None:
            try:
                validator = validator_factory()
            except Exception as error:  # CisisNotFound, Saxon start-up: the region cannot re-validate here
                unavailable = f"{type(error).__name__}: {error}"
        if validator is None:
            out.add(
                Check.CDA,
                Status.A_REJOUER,
                f"CDA not re-validated: the CI-SIS validator is unavailable ({unavailable})",
                file=relative,
            )
            continue
        try:
            report = validator.validate(path, name=relative)
        except (
            Exception
        ) as error:  # a schematron that does not compile is the harness's problem, said as such
            out.add(Check.CDA, Status.A_REJOUER, f"CDA validation failed to run: {error}", file=relative)
            continue
        if not report.valid:
            finding(Check.CDA, "invalid CDA: " + summarise(report), relative)
    return counts


def summarise(report) -> str:
    if report.error:
        return report.error
    parts = [f"volet {report.volet or 'inconnu'}"]
    if report.xsd_errors:
        first = report.xsd_errors[0]
        parts.append(
            f"{len(report.xsd_errors)} XML Schema error(s), first line {first.line}: {first.message}"
        )
    blocking = report.blocking_failures
    if blocking:
        first = blocking[0]
        parts.append(
            f"{len(blocking)} blocking schematron failure(s), first {first.id or first.test}: {first.text}"
        )
    return "; ".join(parts)


def check_email(path: Path) -> list[str]:
    """What is wrong with an .eml artifact as an MSS document message (empty when nothing)."""
    if path.stat().st_size > MAX_EML_BYTES:
        return [f"larger than {MAX_EML_BYTES} bytes"]
    try:
        analysis = analyse(path.read_bytes(), [])
    except MessageRefused as refused:
        return [f"not a readable MSS message: {refused.reply}"]
    problems = [f"header {h} missing" for h in REQUIRED_HEADERS if analysis.message.get(h) is None]
    if analysis.message.get_content_type() == "multipart/report":
        # a delivery or processing acknowledgement (DSN, MDN) carries no document: it must say what it reports on
        report = analysis.message.get_param("report-type")
        if report not in ("delivery-status", "disposition-notification"):
            problems.append(f"acknowledgement of unknown report-type {report!r}")
        return problems
    if analysis.xdm is None:
        problems.append("no IHE_XDM.zip attachment")
    if not analysis.subject.startswith(SUBJECT_PREFIX):
        problems.append(f"subject does not start with {SUBJECT_PREFIX!r}")
    return problems
