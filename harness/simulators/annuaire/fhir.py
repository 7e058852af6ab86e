"""FHIR R4 resources and search of the Annuaire Santé API v2 subset (NATIONAL-SERVICES §5).

Search parameters: ``identifier`` (token: ``system|value``, ``|value`` or ``value``), ``mailbox-mss`` (string,
modifiers ``:contains`` / ``:exact``), ``name`` (string: starts-with, case- and accent-insensitive), ``_id``;
comma-separated values are OR, several parameters are AND. Paging: 50 per page (``_count`` ≤ 50) with a
``next`` link carrying ``_getpagesoffset``. An unknown parameter is an error (strict handling), answered with an
OperationOutcome, as is a malformed ``_count``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from harness.simulators.annuaire.data import Directory, Mailbox, Organization, Practitioner

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
IDNST = "urn:oid:1.2.250.1.71.4.2.2"
RPPS = "https://rpps.esante.gouv.fr"
FINESS = "https://finess.esante.gouv.fr"
PAGE_SIZE = 50
MAILBOX_EXT = (
    "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
)
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
RESOURCES = ("Practitioner", "PractitionerRole", "Organization")
PARAMS = {"identifier", "mailbox-mss", "name", "_id"}
CONTROL = {"_count", "_getpagesoffset"}


class SearchError(ValueError):
    """A search the server refuses; ``status`` is the HTTP status, ``code`` the OperationOutcome issue code."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def outcome(message: str, code: str = "invalid", severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }


def _telecom(boxes: tuple[Mailbox, ...]) -> list[dict[str, Any]]:
    return [
        {
            "system": "email",
            "value": b.address,
            "extension": [
                {
                    "url": MAILBOX_EXT,
                    "extension": [{"url": "type", "valueCodeableConcept": {"coding": [{"code": b.type}]}}],
                }
            ],
        }
        for b in boxes
    ]


def practitioner(p: Practitioner) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": p.idnat,
        "identifier": [
            {"system": IDNPS, "value": p.idnat, "type": {"coding": [{"code": "IDNPS"}]}},
            {"system": RPPS, "value": p.rpps, "type": {"coding": [{"code": "RPPS"}]}},
        ],
        "active": True,
        "name": [{"family": p.family, "given": [p.given], "prefix": [p.civilite]}],
        "telecom": _telecom(p.mailboxes),
        "qualification": [{"code": {"coding": [{"system": PROFESSION_SYSTEM, "code": p.profession_code}]}}],
    }


def role(p: Practitioner) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": f"role-{p.idnat}",
        "active": True,
        "identifier": [{"system": IDNPS, "value": p.idnat}],
        "practitioner": {"reference": f"Practitioner/{p.idnat}"},
        "code": [{"coding": [{"system": PROFESSION_SYSTEM, "code": p.profession_code}]}],
        "telecom": _telecom(p.mailboxes),
    }
    if p.finess_site:
        out["organization"] = {"reference": f"Organization/1{p.finess_site}"}
    if p.savoir_faire:
        out["specialty"] = [{"coding": [{"code": p.savoir_faire}]}]
    return out


def organization(o: Organization) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": o.idnat,
        "active": True,
        "name": o.name,
        "identifier": [{"system": IDNST, "value": o.idnat}, {"system": FINESS, "value": o.finess}],
        "telecom": _telecom(o.mailboxes),
    }


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def _token_match(resource: dict[str, Any], value: str) -> bool:
    system, sep, code = value.rpartition("|")
    for ident in resource.get("identifier", []):
        if ident.get("value") != code:
            continue
        if not sep or ident.get("system") == (system or None):
            return True
    return False


def _names(resource: dict[str, Any]) -> list[str]:
    if resource["resourceType"] == "Organization":
        return [resource.get("name", "")]
    if resource["resourceType"] == "Practitioner":
        return [n for name in resource["name"] for n in [name["family"], *name["given"]]]
    return []


def _matches(resource: dict[str, Any], param: str, modifier: str, values: list[str]) -> bool:
    def one(value: str) -> bool:
        if param == "_id":
            return resource["id"] == value
        if param == "identifier":
            return _token_match(resource, value)
        if param == "mailbox-mss":
            boxes = [_fold(t["value"]) for t in resource.get("telecom", [])]
            v = _fold(value)
            if modifier == "contains":
                return any(v in b for b in boxes)
            if modifier == "exact":
                return value in [t["value"] for t in resource.get("telecom", [])]
            return any(b.startswith(v) for b in boxes)
        if param == "name":
            names = _names(resource)
            if modifier == "exact":
                return value in names
            if modifier == "contains":
                return any(_fold(value) in _fold(n) for n in names)
            return any(_fold(n).startswith(_fold(value)) for n in names)
        return False

    return any(one(v) for v in values)


def all_resources(directory: Directory, kind: str) -> list[dict[str, Any]]:
    if kind == "Practitioner":
        return [practitioner(p) for p in sorted(directory.practitioners, key=lambda p: p.rpps)]
    if kind == "PractitionerRole":
        return [role(p) for p in sorted(directory.practitioners, key=lambda p: p.rpps)]
    return [organization(o) for o in sorted(directory.organizations, key=lambda o: o.finess)]


def search(directory: Directory, kind: str, params: list[tuple[str, str]], base: str) -> dict[str, Any]:
    """A searchset Bundle, or :class:`SearchError`."""
    if kind not in RESOURCES:
        raise SearchError(
            f"resource type {kind!r} is not served (one of {', '.join(RESOURCES)})", 404, "not-supported"
        )
    count, offset = PAGE_SIZE, 0
    criteria: list[tuple[str, str, list[str]]] = []
    for key, value in params:
        param, _, modifier = key.partition(":")
        if param == "_count":
            count = _integer(key, value, 1, PAGE_SIZE)
        elif param == "_getpagesoffset":
            offset = _integer(key, value, 0, 10**6)
        elif param in PARAMS and modifier in ("", "contains", "exact"):
            if param == "name" and kind == "PractitionerRole":
                raise SearchError(
                    "parameter 'name' is not supported on PractitionerRole", 400, "not-supported"
                )
            if not value:
                raise SearchError(f"parameter {key!r}: empty value")
            criteria.append((param, modifier, value.split(",")))
        else:
            raise SearchError(
                f"unknown search parameter {key!r} for {kind} (known: {', '.join(sorted(PARAMS | CONTROL))})",
                400,
                "not-supported",
            )
    matched = [r for r in all_resources(directory, kind) if all(_matches(r, p, m, v) for p, m, v in criteria)]
    page = matched[offset : offset + count]
    query = "&".join(f"{k}={v}" for k, v in params if k not in CONTROL)

    def link(relation: str, at: int) -> dict[str, str]:
        tail = f"{query}&" if query else ""
        return {"relation": relation, "url": f"{base}/{kind}?{tail}_count={count}&_getpagesoffset={at}"}

    links = [link("self", offset)]
    if offset + count < len(matched):
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(offset - count, 0)))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(matched),
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{kind}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in page
        ],
    }


def _integer(key: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SearchError(f"parameter {key!r}: {value!r} is not an integer") from None
    if not low <= number <= high:
        raise SearchError(f"parameter {key!r}: {number} is outside {low}..{high}")
    return number


def read(directory: Directory, kind: str, resource_id: str) -> dict[str, Any]:
    if kind not in RESOURCES:
        raise SearchError(f"resource type {kind!r} is not served", 404, "not-supported")
    for resource in all_resources(directory, kind):
        if resource["id"] == resource_id:
            return resource
    raise SearchError(f"{kind}/{resource_id} not found", 404, "not-found")
