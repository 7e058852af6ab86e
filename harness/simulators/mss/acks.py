"""Acknowledgements the MSSanté simulator returns to the sender (NATIONAL-SERVICES §3).

Delivery: a DSN (RFC 3464, ``multipart/report; report-type=delivery-status``). Reading / integration: an MDN
(RFC 8098, ``multipart/report; report-type=disposition-notification``) when the mail asks for one with
``Disposition-Notification-To``; an integration failure gives an error MDN whose subject starts with
``[KO Intégration système !][<code>]`` (codes 900–906).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import uuid
from email.message import EmailMessage

from harness.simulators.mss.message import ERROR_TEXT

REPORTING_MTA = "mss-simulator.mssante.fr"


def _report(kind: str, human: str, machine: bytes, subtype: str, original_headers: str) -> EmailMessage:
    """A ``multipart/report`` written out by hand: the ``email`` package cannot build the per-recipient blocks
    of ``message/delivery-status`` from strings, and an RFC 3462 report is plain text anyway."""
    boundary = "=_report_" + uuid.uuid4().hex
    body = (
        f'Content-Type: multipart/report; report-type={kind}; boundary="{boundary}"\r\n'
        "MIME-Version: 1.0\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{human}\r\n"
        f"--{boundary}\r\nContent-Type: {subtype}\r\n\r\n{machine.decode('utf-8')}\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers; charset=utf-8\r\n\r\n{original_headers}\r\n"
        f"--{boundary}--\r\n"
    )
    report = email.message_from_bytes(body.encode("utf-8"), policy=email.policy.default)
    assert isinstance(report, EmailMessage)
    return report


def _envelope(report: EmailMessage, sender: str, to: str, subject: str, original_id: str) -> EmailMessage:
    report["From"] = sender
    report["To"] = to
    report["Subject"] = subject
    report["Date"] = email.utils.formatdate(usegmt=True)
    report["Message-ID"] = email.utils.make_msgid(domain=REPORTING_MTA)
    if original_id:
        report["In-Reply-To"] = original_id
        report["References"] = original_id
    report["Auto-Submitted"] = "auto-replied"
    return report


def build_dsn(original: EmailMessage, recipients: list[str], return_to: str) -> EmailMessage:
    """Success DSN: one per-recipient block with ``Action: delivered`` and ``Status: 2.0.0``."""
    arrival = email.utils.formatdate(usegmt=True)
    blocks = [f"Reporting-MTA: dns; {REPORTING_MTA}\r\nArrival-Date: {arrival}\r\n"]
    for rcpt in recipients:
        blocks.append(
            f"Final-Recipient: rfc822; {rcpt}\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
            f"Remote-MTA: dns; {REPORTING_MTA}\r\n"
        )
    report = _report(
        "delivery-status",
        "Your message was delivered to: " + ", ".join(recipients) + "\r\n",
        "\r\n".join(blocks).encode(),
        "message/delivery-status",
        _header_block(original),
    )
    return _envelope(
        report,
        f"MAILER-DAEMON@{REPORTING_MTA}",
        return_to,
        "Delivery Status Notification (Success)",
        str(original.get("Message-ID", "")),
    )


def build_mdn(
    original: EmailMessage, recipient: str, return_to: str, error_code: int | None, error: str | None
) -> EmailMessage:
    """MDN ``processed`` when integration succeeded, ``processed/error`` with code 900–906 otherwise."""
    original_id = str(original.get("Message-ID", ""))
    lines = [
        f"Reporting-UA: {REPORTING_MTA}; dcc-recette MSS simulator",
        f"Final-Recipient: rfc822; {recipient}",
    ]
    if original_id:
        lines.append(f"Original-Message-ID: {original_id}")
    if error_code is None:
        lines.append("Disposition: automatic-action/MDN-sent-automatically; processed")
        subject = f"Accusé de traitement : {original.get('Subject', '')}"
        human = f"The message sent to {recipient} was integrated.\r\n"
    else:
        lines.append("Disposition: automatic-action/MDN-sent-automatically; processed/error")
        lines.append(f"Error: {error_code} {ERROR_TEXT[error_code]}: {error}")
        subject = f"[KO Intégration système !][{error_code}] {original.get('Subject', '')}"
        human = f"Integration failed ({error_code} {ERROR_TEXT[error_code]}): {error}\r\n"
    report = _report(
        "disposition-notification",
        human,
        ("\r\n".join(lines) + "\r\n").encode(),
        "message/disposition-notification",
        _header_block(original),
    )
    return _envelope(report, recipient, return_to, subject, original_id)


def _header_block(original: EmailMessage) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in original.items())
