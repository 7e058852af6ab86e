"""Client of the téléservice INSi (WSDL DESIR_ICIR_EXP 1.5.0, NATIONAL-SERVICES §1): search by traits
(``rechercherInsAvecTraitsIdentite``, body RECSANSVITALE) or by carte Vitale (``rechercherInsAvecCarteVitale``,
body RECVITALE), answer RESULTAT with CodeCR 00 (one identity), 01 (none) or 02 (several).

Why a Protocol: the qualification flow (``dcc.services.identity``) needs an answer, not HTTP; tests and the
in-process harness target can hand it any object with these two methods. ``HttpInsiClient`` speaks SOAP 1.2 with
httpx to the configured endpoint (``DCC_INSI_URL``). The answer's ``request_id`` is the ``wsa:MessageID`` the DCC
sent, so the DCC's trace and the téléservice's trace name the same call.

A transport failure (timeout, refused connection, SOAP fault, unreadable answer) is an ``InsiError`` with a stable
``reason``: it is not a « retour autre que 00 » and never downgrades an identity by itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from lxml import etree

from dcc import settings
from dcc.identity import ins
from dcc.tls import client_context

SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_SANS = "http://www.cnamts.fr/INSiRecSans"
NS_VIT = "http://www.cnamts.fr/INSiRecVit"
NS_RES = "http://www.cnamts.fr/INSiResultat"
NS_SIRAM = "http://www.cnamts.fr/siram"
NS_WSA = "http://www.w3.org/2005/08/addressing"
BY_TRAITS = "rechercherInsAvecTraitsIdentite"
BY_CARTE_VITALE = "rechercherInsAvecCarteVitale"
CODES = ("00", "01", "02")
MAX_RESPONSE_BYTES = 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class InsiError(ValueError):
    """INSi could not answer: ``reason`` is one of insi_not_configured, insi_timeout, insi_unreachable, insi_fault,
    insi_http_error, insi_bad_response; ``request_id`` the MessageID of the failed call (when one was sent)."""

    def __init__(self, reason: str, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.request_id = reason, request_id


@dataclass(frozen=True)
class SearchTraits:
    """What a trait search sends: INSi takes one first name per call; the COG only when known."""

    nom_naissance: str
    prenom: str
    sexe: str
    date_naissance: str  # YYYY-MM-DD
    lieu_naissance: str | None = None


@dataclass(frozen=True)
class InsiIdentity:
    """The identity INSi returned (INSACTIF and TIQ): a 15-character matricule (key checked) and its OID."""

    matricule: str
    oid: str
    nom_naissance: str
    prenoms: tuple[str, ...]
    sexe: str
    date_naissance: str
    lieu_naissance: str | None = None
    historique: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "matricule": self.matricule,
            "oid": self.oid,
            "nom_naissance": self.nom_naissance,
            "prenoms": list(self.prenoms),
            "sexe": self.sexe,
            "date_naissance": self.date_naissance,
            "lieu_naissance": self.lieu_naissance,
            "historique": [list(h) for h in self.historique],
        }


@dataclass(frozen=True)
class InsiAnswer:
    operation: str
    code: str  # 00, 01, 02
    libelle: str
    request_id: str
    identity: InsiIdentity | None = None


class InsiClient(Protocol):
    def search_by_traits(self, traits: SearchTraits) -> InsiAnswer: ...

    def search_by_carte_vitale(self, numero: str, date_naissance: str | None = None) -> InsiAnswer: ...


def _request(operation: str, fields: dict[str, str | None], message_id: str) -> bytes:
    namespace, element = (NS_SANS, "RECSANSVITALE") if operation == BY_TRAITS else (NS_VIT, "RECVITALE")
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "wsa": NS_WSA})
    header = etree.SubElement(envelope, f"{{{SOAP}}}Header")
    etree.SubElement(header, f"{{{NS_WSA}}}MessageID").text = message_id
    etree.SubElement(header, f"{{{NS_WSA}}}Action").text = f"urn:ServiceIdentiteCertifiee:1.0.0:{operation}"
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    request = etree.SubElement(body, f"{{{namespace}}}{element}", nsmap={None: namespace})
    for name, value in fields.items():
        if value:
            etree.SubElement(request, f"{{{namespace}}}{name}").text = value
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _text(element: etree._Element, path: str) -> str:
    return (element.findtext(path, namespaces={"r": NS_RES}) or "").strip()


def parse_answer(operation: str, body: bytes, request_id: str) -> InsiAnswer:
    """The RESULTAT of a 200 answer; InsiError(insi_bad_response) naming what is missing or wrong."""

    def bad(what: str) -> InsiError:
        return InsiError("insi_bad_response", f"INSi {operation}: {what}", request_id)

    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise bad(f"answer is not well-formed XML ({error})") from None
    result = root.find(f"{{{SOAP}}}Body/{{{NS_RES}}}RESULTAT")
    if result is None:
        raise bad("no soap:Body/RESULTAT in the answer")
    code = _text(result, "r:CR/r:CodeCR")
    if code not in CODES:
        raise bad(f"RESULTAT/CR/CodeCR {code!r} is not one of {', '.join(CODES)}")
    identity = None
    if code == "00":
        actif = result.find("r:INDIVIDU/r:INSACTIF", namespaces={"r": NS_RES})
        tiq = result.find("r:INDIVIDU/r:TIQ", namespaces={"r": NS_RES})
        if actif is None or tiq is None:
            raise bad("CodeCR 00 without INDIVIDU/INSACTIF and INDIVIDU/TIQ")
        number, key = _text(actif, "r:IdIndividu/r:NumIdentifiant"), _text(actif, "r:IdIndividu/r:Cle")
        oid = _text(actif, "r:OID")
        try:
            matricule = ins.check(number + key, oid)
        except ins.InsError as error:
            raise bad(f"INDIVIDU/INSACTIF: {error}") from None
        history = []
        for histo in result.iterfind("r:INDIVIDU/r:INSHISTO", namespaces={"r": NS_RES}):
            old = _text(histo, "r:IdIndividu/r:NumIdentifiant") + _text(histo, "r:IdIndividu/r:Cle")
            history.append((old, _text(histo, "r:OID")))
        identity = InsiIdentity(
            matricule=matricule,
            oid=oid,
            nom_naissance=_text(tiq, "r:NomNaissance"),
            prenoms=tuple(_text(tiq, "r:ListePrenom").split()),
            sexe=_text(tiq, "r:Sexe"),
            date_naissance=_text(tiq, "r:DateNaissance"),
            lieu_naissance=_text(tiq, "r:LieuNaissance") or None,
            historique=tuple(history),
        )
    return InsiAnswer(operation, code, _text(result, "r:CR/r:LibelleCR"), request_id, identity)


def _fault(body: bytes) -> str | None:
    """'<siram code>: <reason>' of a SOAP fault, or None when the body is not one."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    if fault is None:
        return None
    reason = (fault.findtext(f"{{{SOAP}}}Reason/{{{SOAP}}}Text") or "").strip()
    erreur = fault.find(f"{{{SOAP}}}Detail/{{{NS_SIRAM}}}Erreur")
    code = erreur.get("code") if erreur is not None else None
    return f"{code}: {reason}" if code else reason


class HttpInsiClient:
    """SOAP 1.2 over httpx. ``transport`` lets a test hand an ASGI or mock transport; by default a real socket."""

    def __init__(self, url: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise InsiError("insi_not_configured", f"INSi endpoint {url!r}: an http(s) URL expected")
        self.url, self.timeout, self.transport = url, timeout, transport

    def search_by_traits(self, traits: SearchTraits) -> InsiAnswer:
        fields = {
            "NomNaissance": traits.nom_naissance,
            "Prenom": traits.prenom,
            "Sexe": traits.sexe,
            "DateNaissance": traits.date_naissance,
            "LieuNaissance": traits.lieu_naissance,
        }
        return self._call(BY_TRAITS, fields)

    def search_by_carte_vitale(self, numero: str, date_naissance: str | None = None) -> InsiAnswer:
        return self._call(BY_CARTE_VITALE, {"NumIdentifiant": numero, "DateNaissance": date_naissance})

    def _call(self, operation: str, fields: dict[str, str | None]) -> InsiAnswer:
        request_id = f"urn:uuid:{uuid.uuid4()}"
        action = f"urn:ServiceIdentiteCertifiee:1.0.0:{operation}"
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        try:
            with httpx.Client(
                timeout=self.timeout, transport=self.transport, verify=client_context()
            ) as client:
                response = client.post(
                    self.url, content=_request(operation, fields, request_id), headers=headers
                )
        except httpx.TimeoutException:
            raise InsiError(
                "insi_timeout",
                f"INSi {operation}: no answer within {self.timeout:g} s from {self.url}",
                request_id,
            ) from None
        except httpx.HTTPError as error:
            raise InsiError(
                "insi_unreachable", f"INSi {operation}: {self.url} unreachable ({error})", request_id
            ) from None
        body = response.content[: MAX_RESPONSE_BYTES + 1]
        if len(body) > MAX_RESPONSE_BYTES:
            raise InsiError("insi_bad_response", f"INSi {operation}: answer larger than 1 MiB", request_id)
        if response.status_code != 200:
            fault = _fault(body)
            if fault is not None:
                raise InsiError("insi_fault", f"INSi {operation}: SOAP fault {fault}", request_id)
            raise InsiError(
                "insi_http_error",
                f"INSi {operation}: HTTP {response.status_code} from {self.url}",
                request_id,
            )
        return parse_answer(operation, body, request_id)


def from_settings() -> HttpInsiClient:
    """The client for ``DCC_INSI_URL`` (and ``DCC_INSI_TIMEOUT``); InsiError(insi_not_configured) when unset."""
    url = settings.insi_url()
    if url is None:
        raise InsiError(
            "insi_not_configured", "INSi is not configured: set DCC_INSI_URL to the téléservice endpoint"
        )
    return HttpInsiClient(url, timeout=settings.insi_timeout())
