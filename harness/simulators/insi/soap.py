"""SOAP 1.2 for the INSi simulator (WSDL DESIR_ICIR_EXP 1.5.0, NATIONAL-SERVICES §1): safe request parsing, the
RESULTAT answer, SOAP faults carrying siram:Erreur."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from harness.simulators.insi.identities import Identity, ins_key

SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_SANS = "http://www.cnamts.fr/INSiRecSans"
NS_VIT = "http://www.cnamts.fr/INSiRecVit"
NS_RES = "http://www.cnamts.fr/INSiResultat"
NS_SIRAM = "http://www.cnamts.fr/siram"
NS_WSA = "http://www.w3.org/2005/08/addressing"
OPERATIONS = {
    f"{{{NS_SANS}}}RECSANSVITALE": "rechercherInsAvecTraitsIdentite",
    f"{{{NS_VIT}}}RECVITALE": "rechercherInsAvecCarteVitale",
}
LIBELLES = {"00": "OK", "01": "Aucune identité trouvée", "02": "Plusieurs identités trouvées"}
MAX_REQUEST_BYTES = 256 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class SoapFault(Exception):
    """A request the service refuses: ``code`` is the SOAP 1.2 fault code (env:Sender / env:Receiver)."""

    def __init__(self, code: str, reason: str, siram_code: str = "insi_01") -> None:
        super().__init__(reason)
        self.code, self.reason, self.siram_code = code, reason, siram_code


@dataclass(frozen=True)
class InsiRequest:
    operation: str
    message_id: str
    fields: dict[str, str]


def parse_request(body: bytes) -> InsiRequest:
    if len(body) > MAX_REQUEST_BYTES:
        raise SoapFault("env:Sender", f"request larger than {MAX_REQUEST_BYTES} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise SoapFault("env:Sender", "DTD and entities are refused")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise SoapFault("env:Sender", f"not well-formed XML: {error}") from None
    if root.tag != f"{{{SOAP}}}Envelope":
        raise SoapFault("env:Sender", "not a SOAP 1.2 Envelope")
    body_el = root.find(f"{{{SOAP}}}Body")
    if body_el is None or len(body_el) != 1:
        raise SoapFault("env:Sender", "the SOAP Body must hold exactly one request element")
    request = body_el[0]
    operation = OPERATIONS.get(request.tag)
    if operation is None:
        raise SoapFault("env:Sender", f"unknown operation element {request.tag}")
    message_id = root.findtext(f"{{{SOAP}}}Header/{{{NS_WSA}}}MessageID") or ""
    fields = {
        etree.QName(child).localname: (child.text or "").strip()
        for child in request
        if isinstance(child.tag, str)
    }
    return InsiRequest(operation, message_id, fields)


def _sub(parent, tag: str, text: str | None = None):
    element = etree.SubElement(parent, f"{{{NS_RES}}}{tag}")
    if text is not None:
        element.text = text
    return element


def result_envelope(code: str, identity: Identity | None) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"env": SOAP, "res": NS_RES})
    etree.SubElement(envelope, f"{{{SOAP}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    result = _sub(body, "RESULTAT")
    cr = _sub(result, "CR")
    _sub(cr, "CodeCR", code)
    _sub(cr, "LibelleCR", LIBELLES[code])
    if identity is not None:
        individu = _sub(result, "INDIVIDU")
        actif = _sub(individu, "INSACTIF")
        ident = _sub(actif, "IdIndividu")
        _sub(ident, "NumIdentifiant", identity.matricule)
        _sub(ident, "Cle", identity.cle)
        _sub(actif, "OID", identity.oid)
        for matricule, oid in identity.historique:
            histo = _sub(individu, "INSHISTO")
            old = _sub(histo, "IdIndividu")
            _sub(old, "NumIdentifiant", matricule)
            _sub(old, "Cle", ins_key(matricule))
            _sub(histo, "OID", oid)
        tiq = _sub(individu, "TIQ")
        _sub(tiq, "NomNaissance", identity.nom_naissance)
        _sub(tiq, "ListePrenom", " ".join(identity.prenoms))
        _sub(tiq, "Sexe", identity.sexe)
        _sub(tiq, "DateNaissance", identity.date_naissance)
        _sub(tiq, "LieuNaissance", identity.lieu_naissance)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_envelope(fault: SoapFault) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"env": SOAP, "siram": NS_SIRAM})
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    fault_el = etree.SubElement(body, f"{{{SOAP}}}Fault")
    code = etree.SubElement(fault_el, f"{{{SOAP}}}Code")
    etree.SubElement(code, f"{{{SOAP}}}Value").text = fault.code
    reason = etree.SubElement(fault_el, f"{{{SOAP}}}Reason")
    text = etree.SubElement(reason, f"{{{SOAP}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    text.text = fault.reason
    detail = etree.SubElement(fault_el, f"{{{SOAP}}}Detail")
    erreur = etree.SubElement(detail, f"{{{NS_SIRAM}}}Erreur", severite="fatal", code=fault.siram_code)
    erreur.text = fault.reason
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
