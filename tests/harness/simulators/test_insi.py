"""INSi simulator, driven by a client written from the WSDL facts (raw SOAP 1.2 over a real loopback socket)."""

from __future__ import annotations

import time

import httpx
import pytest
from lxml import etree

from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import Fault, FaultMode, FaultPlan
from harness.simulators.insi import IdentityBaseError, InsiSimulator, ins_key

RES = {
    "res": "http://www.cnamts.fr/INSiResultat",
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "siram": "http://www.cnamts.fr/siram",
}


def by_traits(nom, prenom, sexe, date, lieu=None, message_id="urn:uuid:0001"):
    lieu_el = f"<LieuNaissance>{lieu}</LieuNaissance>" if lieu else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header><wsa:MessageID>{message_id}</wsa:MessageID></soap:Header>
  <soap:Body><RECSANSVITALE xmlns="http://www.cnamts.fr/INSiRecSans">
    <NomNaissance>{nom}</NomNaissance><Prenom>{prenom}</Prenom><Sexe>{sexe}</Sexe>
    <DateNaissance>{date}</DateNaissance>{lieu_el}
  </RECSANSVITALE></soap:Body></soap:Envelope>""".encode()


def call(sim, body, timeout=5.0):
    action = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
    return httpx.post(
        sim.endpoint,
        content=body,
        timeout=timeout,
        headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'},
    )


@pytest.fixture
def sim():
    with InsiSimulator(evidence=EvidenceStore()) as running:
        yield running


def code_of(response):
    return etree.fromstring(response.content).findtext(".//res:CR/res:CodeCR", namespaces=RES)


def test_key_vectors():
    assert (ins_key("1090763220834"), ins_key("2090763220834"), ins_key("2790351215189")) == (
        "89",
        "39",
        "89",
    )


def test_search_by_traits_returns_00_with_matricule_history_and_tiq(sim):
    response = call(sim, by_traits("Martin", "Jeanne", "F", "1979-03-12"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/soap+xml")
    root = etree.fromstring(response.content)
    assert root.findtext(".//res:CodeCR", namespaces=RES) == "00"
    assert (
        root.findtext(".//res:INSACTIF/res:IdIndividu/res:NumIdentifiant", namespaces=RES) == "2790351215189"
    )
    assert root.findtext(".//res:INSACTIF/res:IdIndividu/res:Cle", namespaces=RES) == "89"
    assert root.findtext(".//res:INSACTIF/res:OID", namespaces=RES) == "1.2.250.1.213.1.4.10"
    assert root.findtext(".//res:TIQ/res:NomNaissance", namespaces=RES) == "MARTIN"
    assert root.findtext(".//res:TIQ/res:ListePrenom", namespaces=RES) == "Jeanne Marie"
    (event,) = [e for e in sim.evidence.events if e.type == "insi.request"]
    assert event.data["code_cr"] == "00" and event.data["matricule"] == "279035121518989"
    assert event.data["request_id"] == "urn:uuid:0001" and len(event.artifacts) == 2
    assert b"RECSANSVITALE" in sim.evidence.read(event.artifacts[0])


def test_history_is_returned(sim):
    root = etree.fromstring(call(sim, by_traits("DUPONT", "Pierre", "M", "2009-07-01")).content)
    assert (
        root.findtext(".//res:INSHISTO/res:IdIndividu/res:NumIdentifiant", namespaces=RES) == "1090763220800"
    )


def test_01_when_unknown_and_02_for_homonyms(sim):
    assert code_of(call(sim, by_traits("INCONNU", "Jean", "M", "1950-01-01"))) == "01"
    assert code_of(call(sim, by_traits("PETIT", "Louis", "M", "1985-02-10"))) == "02"
    assert code_of(call(sim, by_traits("PETIT", "Louis", "M", "1985-02-10", lieu="69123"))) == "00"


def test_search_by_carte_vitale(sim):
    body = b"""<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>
      <RECVITALE xmlns="http://www.cnamts.fr/INSiRecVit"><NumIdentifiant>2790351215189</NumIdentifiant>
      <DateNaissance>1979-03-12</DateNaissance></RECVITALE></soap:Body></soap:Envelope>"""
    assert code_of(call(sim, body)) == "00"


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not xml at all", "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "DTD and entities",
        ),
        (
            b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><Autre/></soap:Body>'
            b"</soap:Envelope>",
            "unknown operation",
        ),
        (by_traits("MARTIN", "", "F", "1979-03-12"), "missing trait(s): Prenom"),
        (b"<a>" + b"x" * 300_000 + b"</a>", "larger than"),
    ],
)
def test_malformed_and_hostile_requests_get_a_soap_fault_and_the_service_goes_on(sim, body, reason):
    response = call(sim, body)
    assert response.status_code == 400
    root = etree.fromstring(response.content)
    assert root.findtext(".//env:Fault/env:Code/env:Value", namespaces=RES) == "env:Sender"
    assert reason in root.findtext(".//env:Fault/env:Reason/env:Text", namespaces=RES)
    assert root.find(".//siram:Erreur", namespaces=RES) is not None
    assert b"root:" not in response.content
    assert code_of(call(sim, by_traits("MARTIN", "Jeanne", "F", "1979-03-12"))) == "00"


def test_each_fault_mode(sim):
    ok = by_traits("MARTIN", "Jeanne", "F", "1979-03-12")
    sim.faults.inject(Fault(FaultMode.REFUSE))
    refused = call(sim, ok)
    assert refused.status_code == 500 and b"siram:Erreur" in refused.content
    sim.faults.inject(Fault(FaultMode.ERROR_5XX))
    assert call(sim, ok).status_code == 503
    sim.faults.inject(Fault(FaultMode.SLOW, delay_s=0.3))
    start = time.monotonic()
    assert code_of(call(sim, ok)) == "00" and time.monotonic() - start >= 0.3
    sim.faults.inject(Fault(FaultMode.TIMEOUT, delay_s=2.0))
    with pytest.raises(httpx.TimeoutException):
        call(sim, ok, timeout=0.5)
    sim.faults.inject(Fault(FaultMode.MALFORMED))
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(call(sim, ok).content)
    sim.faults.inject(Fault(FaultMode.DROP))
    with pytest.raises(httpx.HTTPError):
        call(sim, ok)
    time.sleep(2.0)  # the timed-out request finishes on the server side
    assert code_of(call(sim, ok)) == "00"
    injected = [e.data["mode"] for e in sim.evidence.events if e.type == "insi.fault_injected"]
    assert injected == ["refuse", "error_5xx", "slow", "timeout", "malformed", "drop"]


def test_fault_plan_from_config_and_identity_file(tmp_path):
    base = tmp_path / "ids.yaml"
    base.write_text(
        "identities:\n  - {matricule: '2790351215189', cle: '89', nom_naissance: DURAND, prenoms: [Anne],"
        " sexe: F, date_naissance: '1979-03-12', lieu_naissance: '75056'}\n"
    )
    plan = FaultPlan.from_config([{"mode": "error_5xx", "times": 1}])
    with InsiSimulator(faults=plan, identities=str(base)) as sim:
        assert call(sim, by_traits("DURAND", "Anne", "F", "1979-03-12")).status_code == 503
        assert code_of(call(sim, by_traits("DURAND", "Anne", "F", "1979-03-12"))) == "00"
        assert code_of(call(sim, by_traits("MARTIN", "Jeanne", "F", "1979-03-12"))) == "01"
    base.write_text(
        "identities:\n  - {matricule: '2790351215189', cle: '12', nom_naissance: X, prenoms: [A], sexe: F,"
        " date_naissance: '1979-03-12'}\n"
    )
    with pytest.raises(IdentityBaseError, match=r"identities\[0\]: cle 12 does not match"):
        InsiSimulator(identities=str(base))
    with pytest.raises(ValueError, match="unknown option"):
        InsiSimulator(colour="blue")
