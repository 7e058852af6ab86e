"""The INS matricule: 13 characters (NIR layout) and a 2-digit key, 97 − (N mod 97), Corsica 2A → 19, 2B → 18."""

from __future__ import annotations

import re

INS_OIDS = {
    "1.2.250.1.213.1.4.8": "INS-NIR",
    "1.2.250.1.213.1.4.9": "INS-NIA",
    "1.2.250.1.213.1.4.10": "INS-NIR test",
    "1.2.250.1.213.1.4.11": "INS-NIR démo",
}
_FORMAT = re.compile(r"^[12378]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")


class InsError(ValueError):
    """A matricule or OID that cannot be an INS; the message says which part is wrong."""

    reason = "ins_invalid"


def key(matricule13: str) -> str:
    department = matricule13[5:7].upper()
    digits = matricule13[:5] + {"2A": "19", "2B": "18"}.get(department, department) + matricule13[7:]
    return f"{97 - int(digits) % 97:02d}"


def check(matricule: str, oid: str) -> str:
    """The normalised 15-character matricule, or InsError (wrong length, characters, key or OID)."""
    value = matricule.replace(" ", "").upper()
    if len(value) != 15:
        raise InsError(f"matricule INS {matricule!r}: 15 characters expected (13 + key), got {len(value)}")
    if not _FORMAT.match(value):
        raise InsError(f"matricule INS {matricule!r}: not a NIR/NIA layout")
    if key(value[:13]) != value[13:]:
        raise InsError(f"matricule INS {matricule!r}: key {value[13:]} is wrong (expected {key(value[:13])})")
    if oid not in INS_OIDS:
        raise InsError(f"OID {oid!r} is not an INS OID ({', '.join(INS_OIDS)})")
    return value
