"""Client of the Annuaire Santé FHIR API v2 (NATIONAL-SERVICES §5; cahier des charges 2.1.5.2 « point
d'attention »): Practitioner and PractitionerRole searches by RPPS, name or MSSanté address.

The DCC depends on the :class:`AnnuaireClient` protocol, not on HTTP, so that tests and in-process targets can
give it any implementation; :class:`HttpAnnuaireClient` speaks the real API (base URL, ``ESANTE-API-KEY`` header,
searchsets of 50 with ``next`` links, OperationOutcome on refusal). Configured with ``DCC_ANNUAIRE_URL`` (the FHIR
base, e.g. ``https://gateway.api.esante.gouv.fr/fhir/v2``) and ``DCC_ANNUAIRE_API_KEY``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from dcc.tls import client_context

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
MAILBOX_EXT = (
    "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
)
MAX_PAGES = 20  # 1,000 resources: a search by name that returns more is refined, not paged through


class AnnuaireError(RuntimeError):
    """The Annuaire Santé could not answer; ``reason`` is stable (``unreachable``, ``refused``, ``invalid``)."""

    def __init__(self, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class FhirPractitioner:
    idnat: str
    rpps: str | None
    family: str
    given: str | None
    civilite: str | None
    profession_code: str | None
    mailboxes: tuple[tuple[str, str], ...] = ()  # (address, type PER/CAB/…)
    activities: tuple[dict[str, str], ...] = field(default_factory=tuple)  # from PractitionerRole


class AnnuaireClient(Protocol):
    def practitioners(
        self, *, rpps: str | None = None, name: str | None = None, mailbox: str | None = None
    ) -> list[FhirPractitioner]: ...


def practitioner_from_fhir(resource: dict[str, Any]) -> FhirPractitioner:
    """Our view of a Practitioner resource; raises :class:`AnnuaireError` when it lacks an IdNat or a name."""
    identifiers = {
        i.get("system"): i.get("value") for i in resource.get("identifier") or [] if isinstance(i, dict)
    }
    idnat = identifiers.get(IDNPS) or resource.get("id")
    names = resource.get("name") or [{}]
    name = names[0] if isinstance(names[0], dict) else {}
    if not idnat or not name.get("family"):
        raise AnnuaireError("invalid", f"Practitioner/{resource.get('id')}: no IdNat PS or no family name")
    given = name.get("given") or []
    prefix = name.get("prefix") or []
    qualification = resource.get("qualification") or []
    profession = None
    if qualification:
        codings = (qualification[0].get("code") or {}).get("coding") or []
        profession = codings[0].get("code") if codings else None
    return FhirPractitioner(
        idnat=str(idnat),
        rpps=identifiers.get(RPPS_SYSTEM),
        family=str(name["family"]),
        given=str(given[0]) if given else None,
        civilite=str(prefix[0]) if prefix else None,
        profession_code=profession,
        mailboxes=tuple(_mailboxes(resource)),
    )


def _mailboxes(resource: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for telecom in resource.get("telecom") or []:
        if telecom.get("system") != "email" or not telecom.get("value"):
            continue
        kind = "PER"
        for ext in telecom.get("extension") or []:
            if ext.get("url") == MAILBOX_EXT:
                for sub in ext.get("extension") or []:
                    codings = (sub.get("valueCodeableConcept") or {}).get("coding") or []
                    if sub.get("url") == "type" and codings:
                        kind = codings[0].get("code") or kind
        out.append((str(telecom["value"]).lower(), kind))
    return out


def _activity(role: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    reference = (role.get("organization") or {}).get("reference", "")
    if reference.startswith("Organization/1"):
        out["finess_site"] = reference.removeprefix("Organization/1")
    for specialty in role.get("specialty") or []:
        codings = specialty.get("coding") or []
        if codings and codings[0].get("code"):
            out["savoir_faire"] = codings[0]["code"]
            break
    return out


class HttpAnnuaireClient:
    """The Annuaire Santé FHIR API over HTTP (httpx). ``transport`` lets tests pass an in-memory transport."""

    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/fhir+json"}
        if api_key:
            headers["ESANTE-API-KEY"] = api_key
        self._http = httpx.Client(
            headers=headers, timeout=timeout, transport=transport, verify=client_context()
        )

    @classmethod
    def from_env(cls) -> HttpAnnuaireClient | None:
        """The client configured by ``DCC_ANNUAIRE_URL`` / ``DCC_ANNUAIRE_API_KEY``; None when no URL is set."""
        url = os.environ.get("DCC_ANNUAIRE_URL", "").strip()
        if not url:
            return None
        return cls(url, os.environ.get("DCC_ANNUAIRE_API_KEY", "").strip())

    def close(self) -> None:
        self._http.close()

    def _get(self, url: str, params: dict[str, str] | None) -> dict[str, Any]:
        try:
            response = self._http.get(url, params=params)
        except httpx.HTTPError as error:
            raise AnnuaireError("unreachable", f"Annuaire Santé {url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            raise AnnuaireError(
                "invalid",
                f"Annuaire Santé {url}: HTTP {response.status_code}, answer is not JSON",
                response.status_code,
            ) from None
        if response.status_code >= 400 or not isinstance(body, dict):
            diagnostics = ""
            if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
                diagnostics = "; ".join(str(i.get("diagnostics", "")) for i in body.get("issue") or [])
            raise AnnuaireError(
                "refused",
                f"Annuaire Santé {url}: HTTP {response.status_code} {diagnostics}".strip(),
                response.status_code,
            )
        if body.get("resourceType") != "Bundle":
            raise AnnuaireError(
                "invalid", f"Annuaire Santé {url}: expected a Bundle, got {body.get('resourceType')}"
            )
        return body

    def search(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every resource of a search, following ``next`` links (at most :data:`MAX_PAGES` pages)."""
        found: list[dict[str, Any]] = []
        url: str | None = f"{self.base_url}/{resource}"
        query: dict[str, str] | None = params
        for _ in range(MAX_PAGES):
            if url is None:
                break
            bundle = self._get(url, query)
            found.extend(
                e["resource"] for e in bundle.get("entry") or [] if isinstance(e.get("resource"), dict)
            )
            url = next(
                (link.get("url") for link in bundle.get("link") or [] if link.get("relation") == "next"), None
            )
            query = None  # the next link carries the query
        return found

    def practitioners(
        self, *, rpps: str | None = None, name: str | None = None, mailbox: str | None = None
    ) -> list[FhirPractitioner]:
        params: dict[str, str] = {}
        if rpps:
            params["identifier"] = f"{RPPS_SYSTEM}|{rpps}"
        if name:
            params["name"] = name
        if mailbox:
            params["mailbox-mss"] = mailbox
        if not params:
            raise AnnuaireError("invalid", "a Practitioner search needs an RPPS, a name or a mailbox")
        out = []
        for resource in self.search("Practitioner", params):
            base = practitioner_from_fhir(resource)
            roles = self.search("PractitionerRole", {"identifier": f"{IDNPS}|{base.idnat}"})
            activities = tuple(a for a in (_activity(r) for r in roles) if a)
            boxes = list(base.mailboxes)
            for role in roles:
                boxes.extend(b for b in _mailboxes(role) if b not in boxes)
            out.append(
                FhirPractitioner(
                    base.idnat,
                    base.rpps,
                    base.family,
                    base.given,
                    base.civilite,
                    base.profession_code,
                    tuple(boxes),
                    activities,
                )
            )
        return out
