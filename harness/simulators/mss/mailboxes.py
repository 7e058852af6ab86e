"""MSSanté addresses and mailbox types (NATIONAL-SERVICES §3).

The simulator is the receiving MTA of the MSSanté trust space (``*.mssante.fr``): anything else is a relay it
refuses. Patient mailboxes are ``<matricule INS, 15 chars>@patient.mssante.fr`` (MSS citoyenne); the PDC
(Plateforme de Données de Cancérologie) has one configured address; other addresses carry a type
(PER personal, ORG organisation, APP application mailbox / BAL applicative, CAB practice).
"""

from __future__ import annotations

import re
from enum import StrEnum

PATIENT_DOMAIN = "patient.mssante.fr"
TRUST_DOMAIN = "mssante.fr"
DEFAULT_PDC = "pdc@pdc.unicancer.mssante.fr"
_INS = re.compile(r"^[12][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{8}$", re.I)
_ADDRESS = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+$")


class MailboxType(StrEnum):
    PER = "PER"
    ORG = "ORG"
    APP = "APP"
    CAB = "CAB"
    PATIENT = "PATIENT"
    PDC = "PDC"


class AddressRefused(ValueError):
    """An RCPT the MTA refuses; ``reply`` is the SMTP reply line."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def in_trust_space(address: str) -> bool:
    domain = address.rpartition("@")[2].lower()
    return domain == TRUST_DOMAIN or domain.endswith("." + TRUST_DOMAIN)


def classify(address: str, known: dict[str, MailboxType], pdc: str, strict: bool) -> MailboxType:
    """The type of a recipient, or :class:`AddressRefused` with the 5xx reply a real MSS MTA would give."""
    address = address.strip().lower()
    if not _ADDRESS.match(address):
        raise AddressRefused(f"553 5.1.3 <{address}>: bad address syntax")
    if not in_trust_space(address):
        raise AddressRefused(f"550 5.7.1 <{address}>: relay denied, not an MSSanté domain")
    local, _, domain = address.partition("@")
    if address == pdc.lower():
        return MailboxType.PDC
    if domain == PATIENT_DOMAIN:
        if not _INS.match(local):
            raise AddressRefused(
                f"550 5.1.1 <{address}>: a patient mailbox is the 15-character INS matricule"
            )
        return MailboxType.PATIENT
    if address in known:
        return known[address]
    if strict:
        raise AddressRefused(f"550 5.1.1 <{address}>: no such mailbox")
    return MailboxType.PER
