"""Reading the Annuaire Santé extraction files line by line (NATIONAL-SERVICES §5): pipe-separated UTF-8, a header
row, each line ending with ``|``.

``PS_LibreAcces_Personne_activite_<stamp>.txt`` has one line per activity of a professional;
``Extraction_Correspondance_MSSante_<stamp>.txt`` one line per MSSanté mailbox. Columns are found by their header
name (the public files gain columns over time), so only the columns we use must be there. A line that cannot be
used becomes a :class:`LineError` naming its number and why; it never stops the reading (ANN.01). Only the header
can make a whole file unusable (:class:`ExtractionError`, raised before anything is written).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

PERSONNE_ACTIVITE = "personne_activite"
MSSANTE = "mssante"
ID_TYPES = {"8": ("RPPS", 11), "0": ("ADELI", 9)}
MAILBOX_TYPES = {"PER", "ORG", "APP", "CAB"}
EMAIL = re.compile(r"^[^@\s|]+@[^@\s|]+\.[^@\s|]+$")
FINESS = re.compile(r"^[0-9A-Za-z]{9}$")

# header name -> our field, for the columns we read
PERSON_COLUMNS = {
    "Type d'identifiant PP": "id_type",
    "Identifiant PP": "rpps",
    "Identification nationale PP": "idnat",
    "Code civilité d'exercice": "civilite",
    "Nom d'exercice": "family",
    "Prénom d'exercice": "given",
    "Code profession": "profession_code",
    "Libellé profession": "profession_label",
    "Code savoir-faire": "savoir_faire",
    "Code mode exercice": "mode",
    "Numéro FINESS site": "finess_site",
    "Raison sociale site": "raison_sociale",
}
PERSON_REQUIRED = ("Type d'identifiant PP", "Identifiant PP", "Identification nationale PP", "Nom d'exercice")
MAILBOX_COLUMNS = {
    "type_bal": "type",
    "adresse_bal": "address",
    "type_identifiant_pp": "id_type",
    "identifiant_pp": "rpps",
    "identification_nationale_pp": "idnat",
    "type_identifiant_structure": "structure_type",
    "identification_structure": "structure_id",
    "service_rattachement": "service",
    "civilite_exercice": "civilite",
    "nom_exercice": "family",
    "prenom_exercice": "given",
    "code_profession": "profession_code",
}
MAILBOX_REQUIRED = ("type_bal", "adresse_bal", "identification_nationale_pp", "identification_structure")
LIMITS = {
    "civilite": 10,
    "family": 100,
    "given": 100,
    "profession_code": 10,
    "profession_label": 100,
    "savoir_faire": 20,
    "raison_sociale": 200,
    "mode": 10,
    "service": 200,
    "structure_id": 40,
    "address": 200,
}


class ExtractionError(ValueError):
    """A file that cannot be integrated at all (unknown or incomplete header, not UTF-8 header); names the file."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass(frozen=True)
class PersonLine:
    line: int
    id_type: str
    rpps: str
    idnat: str
    civilite: str | None
    family: str
    given: str | None
    profession_code: str | None
    profession_label: str | None
    savoir_faire: str | None
    activity: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MailboxLine:
    line: int
    type: str
    address: str
    idnat_pp: str | None
    rpps: str | None
    id_type: str | None
    structure_id: str | None
    service: str | None
    civilite: str | None
    family: str | None
    given: str | None
    profession_code: str | None


@dataclass(frozen=True)
class Layout:
    kind: str
    width: int  # number of columns of the header: every line must have as many
    index: dict[str, int]  # our field -> column position


def _split(text: str) -> list[str]:
    values = text.split("|")
    if values and values[-1] == "":  # the trailing "|" of every line
        values.pop()
    return values


def layout(header: bytes, file: str) -> Layout:
    """The layout announced by the header line (line 1)."""
    try:
        text = header.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise ExtractionError("not_utf8", f"{file}:1: header is not UTF-8 ({error.reason})") from None
    names = [n.strip() for n in _split(text)]
    if "Identifiant PP" in names:
        kind, columns, required = PERSONNE_ACTIVITE, PERSON_COLUMNS, PERSON_REQUIRED
    elif "adresse_bal" in names:
        kind, columns, required = MSSANTE, MAILBOX_COLUMNS, MAILBOX_REQUIRED
    else:
        raise ExtractionError(
            "unknown_file",
            f"{file}:1: not an Annuaire Santé extraction (no 'Identifiant PP' nor 'adresse_bal' column)",
        )
    missing = [c for c in required if c not in names]
    if missing:
        raise ExtractionError("missing_columns", f"{file}:1: missing column(s) {', '.join(missing)}")
    index = {ours: names.index(theirs) for theirs, ours in columns.items() if theirs in names}
    return Layout(kind, len(names), index)


def _values(raw: bytes, number: int, shape: Layout) -> dict[str, str] | LineError:
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return LineError(number, f"not UTF-8 (byte {error.start}: {error.reason})")
    values = _split(text)
    if len(values) != shape.width:
        return LineError(number, f"{len(values)} fields, the header has {shape.width}")
    out = {ours: values[at].strip() for ours, at in shape.index.items()}
    for name, limit in LIMITS.items():
        if len(out.get(name, "")) > limit:
            return LineError(number, f"{name}: {len(out[name])} characters, at most {limit}")
    return out


def _identifier(v: dict[str, str], number: int) -> LineError | None:
    id_type, rpps, idnat = v.get("id_type", ""), v.get("rpps", ""), v.get("idnat", "")
    if id_type not in ID_TYPES:
        return LineError(number, f"type d'identifiant PP {id_type!r} is not 8 (RPPS) or 0 (ADELI)")
    name, digits = ID_TYPES[id_type]
    if not (rpps.isdigit() and len(rpps) == digits):
        return LineError(number, f"identifiant PP {rpps!r} is not a {name} number ({digits} digits)")
    if idnat != id_type + rpps:
        return LineError(number, f"identification nationale PP {idnat!r} is not {id_type + rpps!r}")
    return None


def person(raw: bytes, number: int, shape: Layout) -> PersonLine | LineError:
    v = _values(raw, number, shape)
    if isinstance(v, LineError):
        return v
    error = _identifier(v, number)
    if error is not None:
        return error
    if not v["family"]:
        return LineError(number, "nom d'exercice is empty")
    finess = v.get("finess_site", "")
    if finess and not FINESS.match(finess):
        return LineError(number, f"numéro FINESS site {finess!r} is not 9 characters")
    activity = {k: v[k] for k in ("finess_site", "raison_sociale", "mode", "savoir_faire") if v.get(k)}
    return PersonLine(
        line=number,
        id_type=v["id_type"],
        rpps=v["rpps"],
        idnat=v["idnat"],
        civilite=v.get("civilite") or None,
        family=v["family"],
        given=v.get("given") or None,
        profession_code=v.get("profession_code") or None,
        profession_label=v.get("profession_label") or None,
        savoir_faire=v.get("savoir_faire") or None,
        activity=activity,
    )


def mailbox(raw: bytes, number: int, shape: Layout) -> MailboxLine | LineError:
    v = _values(raw, number, shape)
    if isinstance(v, LineError):
        return v
    if v["type"] not in MAILBOX_TYPES:
        return LineError(number, f"type_bal {v['type']!r} is not one of {', '.join(sorted(MAILBOX_TYPES))}")
    address = v["address"].lower()
    if not EMAIL.match(address):
        return LineError(number, f"adresse_bal {v['address']!r} is not a mail address")
    idnat = v.get("idnat") or None
    if idnat is not None:
        error = _identifier(v, number)
        if error is not None:
            return error
    elif not v.get("structure_id"):
        return LineError(number, "neither identification_nationale_pp nor identification_structure")
    return MailboxLine(
        line=number,
        type=v["type"],
        address=address,
        idnat_pp=idnat,
        rpps=v.get("rpps") or None,
        id_type=v.get("id_type") or None,
        structure_id=v.get("structure_id") or None,
        service=v.get("service") or None,
        civilite=v.get("civilite") or None,
        family=v.get("family") or None,
        given=v.get("given") or None,
        profession_code=v.get("profession_code") or None,
    )


def parsed_lines(
    lines: Iterable[bytes], shape: Layout, first_number: int = 2
) -> Iterator[PersonLine | MailboxLine | LineError]:
    """Each non-blank line after the header, parsed; ``first_number`` is the file line number of the first one."""
    parse = person if shape.kind == PERSONNE_ACTIVITE else mailbox
    for number, raw in enumerate(lines, start=first_number):
        if not raw.strip():
            continue
        yield parse(raw, number, shape)
