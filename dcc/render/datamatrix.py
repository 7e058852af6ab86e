"""The INS datamatrix printed on every page of a document of a patient whose INS is qualified (RNIV, INS.09).

Content [C] (docs/NATIONAL-SERVICES.md §1): header ``IS010000000000000000000000``, then S1 + matricule (15), S2 +
OID, S3 + prénoms, S4 + nom de naissance, S5 + sexe, S6 + date JJ-MM-AAAA, S7 + COG; GS (0x1D) closes a
variable-length field shorter than its maximum. The maxima are not published with the format [U]: we take 64 for
the OID and 100 for names, so the GS is always written after S2, S3 and S4.

Drawn as an 8-bit grey PNG without alpha (PDF/A-1 forbids transparency), so that the PDF check can also find the
very same pixels on each page without a datamatrix decoder.
"""

from __future__ import annotations

import struct
import unicodedata
import zlib

from ppf.datamatrix import DataMatrix

from dcc.cda.model import PatientIdentity

HEADER = "IS010000000000000000000000"
GS = "\x1d"
MAXIMA = {"S2": 64, "S3": 100, "S4": 100}
MODULE_PX = 6
QUIET_MODULES = 2


def ascii_upper(text: str) -> str:
    """Traits as the INS writes them: upper case, no diacritics (the symbol is encoded in ASCII)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .upper()
        .encode("ascii", "replace")
        .decode()
    )


def payload(patient: PatientIdentity) -> str:
    """The datamatrix text for a patient; raises ValueError when the identity carries no INS."""
    if not (patient.ins_matricule and patient.ins_oid):
        raise ValueError("no INS: a datamatrix is printed only for a qualified identity")
    fields = [
        ("S1", patient.ins_matricule),
        ("S2", patient.ins_oid),
        ("S3", ascii_upper(" ".join(patient.prenoms))),
        ("S4", ascii_upper(patient.nom_naissance)),
        ("S5", patient.sexe),
        ("S6", patient.date_naissance.strftime("%d-%m-%Y")),
    ]
    if patient.lieu_naissance:
        fields.append(("S7", patient.lieu_naissance))
    text = HEADER
    for tag, value in fields:
        text += tag + value
        if tag in MAXIMA and len(value) < MAXIMA[tag]:
            text += GS
    return text


def matrix(text: str) -> list[list[int]]:
    return [list(row) for row in DataMatrix(text).matrix]


def pixels(text: str) -> tuple[int, int, bytes]:
    """(width, height, 8-bit grey samples row by row): black modules on white, with a quiet zone."""
    rows = matrix(text)
    width = len(rows[0]) + 2 * QUIET_MODULES
    blank = [0] * width
    padded = [blank] * QUIET_MODULES
    padded += [[0] * QUIET_MODULES + row + [0] * QUIET_MODULES for row in rows]
    padded += [blank] * QUIET_MODULES
    samples = bytearray()
    for row in padded:
        line = bytes(0 if bit else 255 for bit in row for _ in range(MODULE_PX))
        samples += line * MODULE_PX
    return width * MODULE_PX, len(padded) * MODULE_PX, bytes(samples)


def png(text: str) -> bytes:
    """The symbol as a PNG: 8-bit grey, no alpha, no interlace."""
    width, height, samples = pixels(text)
    raw = b"".join(b"\x00" + samples[y * width : (y + 1) * width] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
