"""What the MSSanté simulator checks in a received mail (NATIONAL-SERVICES §3, ANS volet « transmission de
documents CDA en HL7v2 / courriel MSS »): the IHE_XDM.zip attachment, the subject ``XDM/1.0/DDM+…``, the
``X-MSS-*`` headers and the patient's INS in the CDA.

Two kinds of failure: a mail that is not an MSS document message at all (not MIME, hostile or broken zip) is
refused at the SMTP level (:class:`MessageRefused`, a 5xx reply); a well-formed message whose content fails the
receiver's integration checks is accepted and answered with an error MDN carrying code 900–906.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import dataclass, field
from email.message import EmailMessage

from harness.simulators.mss.cda import CdaError, parse, read_header
from harness.simulators.mss.mailboxes import PATIENT_DOMAIN
from harness.simulators.xdm import XdmError, XdmPackage, parse_xdm

SUBJECT_PREFIX = "XDM/1.0/DDM"
ERROR_TEXT = {
    900: "Version non supportée",
    901: "Auteur non autorisé",
    902: "Patient inconnu",
    903: "Absence d'INS",
    904: "INS non concordante",
    905: "INS incomplète",
    906: "Autre erreur",
}


class MessageRefused(ValueError):
    """A mail refused at the SMTP level; ``reply`` is the 5xx reply line."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass
class Analysis:
    message: EmailMessage
    message_id: str
    subject: str
    mss_headers: dict[str, str]
    xdm: XdmPackage | None
    xdm_bytes: bytes | None
    patient_ins: str | None
    error_code: int | None = None
    error: str | None = None
    documents: list[dict[str, object]] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)  # what the rules read (docs/trace-events.md)


def parse_message(raw: bytes) -> EmailMessage:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as error:  # the email package raises many types on hostile input
        raise MessageRefused(f"554 5.6.0 message not parseable ({type(error).__name__})") from None
    if not isinstance(message, EmailMessage) or message.get("From") is None:
        raise MessageRefused("554 5.6.0 not an RFC 5322 message (no From header)")
    return message


def _xdm_part(message: EmailMessage) -> bytes | None:
    for part in message.walk():
        name = (part.get_filename() or "").strip()
        if name.upper() == "IHE_XDM.ZIP" or part.get_content_type() in {
            "application/zip",
            "application/x-zip-compressed",
        }:
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                raise MessageRefused(f"554 5.6.0 attachment {name or 'IHE_XDM.zip'}: undecodable")
            return payload
    return None


def analyse(
    raw: bytes,
    recipients: list[str],
    *,
    authorised_senders: frozenset[str] | None = None,
    known_patients: frozenset[str] | None = None,
) -> Analysis:
    message = parse_message(raw)
    subject = str(message.get("Subject", ""))
    mss_headers = {k: str(v) for k, v in message.items() if k.lower().startswith("x-mss-")}
    try:
        xdm_bytes = _xdm_part(message)
        package = parse_xdm(xdm_bytes) if xdm_bytes is not None else None
    except XdmError as error:
        raise MessageRefused(f"554 5.6.0 IHE_XDM.zip refused: {error}") from None
    analysis = Analysis(
        message=message,
        message_id=str(message.get("Message-ID", "")).strip(),
        subject=subject,
        mss_headers=mss_headers,
        xdm=package,
        xdm_bytes=xdm_bytes,
        patient_ins=None,
    )
    if package is not None:
        analysis.documents = [d.summary() for d in package.documents]
    _check(analysis, recipients, authorised_senders, known_patients)
    return analysis


def _fail(analysis: Analysis, code: int, why: str) -> None:
    if analysis.error_code is None:
        analysis.error_code, analysis.error = code, why


def _check(
    analysis: Analysis,
    recipients: list[str],
    authorised: frozenset[str] | None,
    known_patients: frozenset[str] | None,
) -> None:
    header_ins = next((v for k, v in analysis.mss_headers.items() if k.lower() == "x-mss-ins"), None)
    if analysis.xdm is None:
        _fail(analysis, 906, "no IHE_XDM.zip attachment")
        return
    if not analysis.subject.startswith(SUBJECT_PREFIX):
        _fail(analysis, 900, f"subject does not start with {SUBJECT_PREFIX!r}")
    sender = email.utils.parseaddr(str(analysis.message.get("From", "")))[1].lower()
    if authorised is not None and sender not in authorised:
        _fail(analysis, 901, f"author {sender} not authorised")
    cda_ins: str | None = None
    headers = []
    for document in analysis.xdm.documents:
        if document.mime_type != "text/xml":
            continue
        try:
            header = read_header(parse(document.content))
        except CdaError as error:
            _fail(analysis, 906, f"{document.path}: {error}")
            continue
        headers.append(header)
        cda_ins = cda_ins or header.ins
        document_summary = next(d for d in analysis.documents if d["path"] == document.path)
        document_summary.update(
            {
                "document_id": header.document_id,
                "set_id": header.set_id,
                "version": header.version,
                "status": header.status,
            }
        )
    analysis.patient_ins = cda_ins or header_ins
    analysis.facts = _facts(analysis, headers)
    if cda_ins is None:
        if header_ins is None:
            _fail(analysis, 903, "no INS in the CDA recordTarget nor in X-MSS-INS")
        return
    if len(cda_ins) != 15:
        _fail(analysis, 905, f"INS {cda_ins!r} is not 15 characters")
    if header_ins is not None and header_ins.strip() != cda_ins:
        _fail(analysis, 904, f"X-MSS-INS {header_ins!r} differs from the CDA INS {cda_ins!r}")
    for rcpt in recipients:
        local, _, domain = rcpt.lower().partition("@")
        if domain == PATIENT_DOMAIN and local != cda_ins.lower():
            _fail(analysis, 904, f"patient mailbox {rcpt} differs from the CDA INS {cda_ins!r}")
    if known_patients is not None and cda_ins not in known_patients:
        _fail(analysis, 902, f"patient {cda_ins} unknown to the receiver")


def _subject_matches(subject: str, family: str | None, birth: str | None) -> bool:
    """The subject names the patient: family name and birth date (DD/MM/YYYY, YYYY-MM-DD or YYYYMMDD) [U]."""
    if not family or not birth or len(birth) < 8:
        return False
    year, month, day = birth[:4], birth[4:6], birth[6:8]
    dates = (f"{day}/{month}/{year}", f"{year}-{month}-{day}", birth[:8], f"{day}{month}{year}")
    return family.casefold() in subject.casefold() and any(d in subject for d in dates)


def _facts(analysis: Analysis, headers: list) -> dict[str, object]:
    """Per-message facts the rules read (docs/trace-events.md, « What the rules read »)."""
    assert analysis.xdm is not None
    levels = sorted({h.level for h in headers})
    pdf_in_mail = any(part.get_content_type() == "application/pdf" for part in analysis.message.walk())
    has_pdf = pdf_in_mail or any(d.mime_type == "application/pdf" for d in analysis.xdm.documents)
    first = headers[0] if headers else None
    return {
        "document_id": first.document_id if first else None,
        "document_status": first.status if first else None,
        "document_formats": levels + (["pdf"] if has_pdf else []),
        "type_codes": sorted({d.type_code for d in analysis.xdm.documents if d.type_code}),
        "has_cda_n1": "cda_n1" in levels,
        "has_cda_n3": "cda_n3" in levels or "cda_n3_pdf" in levels,
        "has_cda_n3_pdf": "cda_n3_pdf" in levels,
        "has_pdf": has_pdf,
        "matricule_in_cda": any(h.ins for h in headers),
        "identity_status": "qualifiee" if any(h.ins for h in headers) else None,
        "patients": len({h.ins or h.family for h in headers if h.ins or h.family}),
        "subject_matches_patient": bool(first)
        and _subject_matches(analysis.subject, first.family, first.birth_date),
        "xdm_complete": True,  # parse_xdm refuses an archive without INDEX.HTM, README.TXT, METADATA.XML
    }
