"""The DCC's INSi client against the INSi simulator (SOAP 1.2 on a loopback socket): codes 00/01/02, carte Vitale,
and every way the téléservice can fail, each a clear InsiError with a stable reason."""

from __future__ import annotations

import socket

import httpx
import pytest

from dcc.identity import ins
from dcc.identity.insi import (
    BY_CARTE_VITALE,
    BY_TRAITS,
    HttpInsiClient,
    InsiError,
    SearchTraits,
    from_settings,
    parse_answer,
)
from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import Fault, FaultMode
from harness.simulators.insi import InsiSimulator

MARTIN = SearchTraits("MARTIN", "Jeanne", "F", "1979-03-12")


@pytest.fixture(scope="module")
def sim():
    with InsiSimulator(evidence=EvidenceStore()) as running:
        yield running


@pytest.fixture
def client(sim):
    sim.faults.clear()
    return HttpInsiClient(sim.endpoint, timeout=5.0)


def test_00_returns_the_identity_with_checked_key_oid_history_and_traits(sim, client):
    answer = client.search_by_traits(SearchTraits("Dupont", "Pierre", "M", "2009-07-01"))
    assert (answer.operation, answer.code) == (BY_TRAITS, "00")
    identity = answer.identity
    assert identity.matricule == "109076322083489" and identity.oid == "1.2.250.1.213.1.4.10"
    assert identity.historique == (("1090763220800" + ins.key("1090763220800"), "1.2.250.1.213.1.4.10"),)
    assert (identity.nom_naissance, identity.prenoms, identity.lieu_naissance) == (
        "DUPONT",
        ("Pierre",),
        "63220",
    )
    served = [e for e in sim.evidence.events if e.type == "insi.request"][-1]
    assert served.data["request_id"] == answer.request_id  # the two traces name the same call
    assert served.data["traits"]["Prenom"] == "Pierre" and "LieuNaissance" not in served.data["traits"]


def test_01_none_and_02_several(client):
    unknown = client.search_by_traits(SearchTraits("INCONNU", "Paul", "M", "1950-01-01"))
    assert (unknown.code, unknown.identity) == ("01", None)
    homonyms = client.search_by_traits(SearchTraits("PETIT", "Louis", "M", "1985-02-10"))
    assert (homonyms.code, homonyms.identity) == ("02", None)
    with_cog = client.search_by_traits(SearchTraits("PETIT", "Louis", "M", "1985-02-10", "69123"))
    assert with_cog.code == "00" and with_cog.identity.matricule.startswith("1850269123456")


def test_search_by_carte_vitale(client):
    answer = client.search_by_carte_vitale("2790351215189", "1979-03-12")
    assert (answer.operation, answer.code, answer.identity.matricule) == (
        BY_CARTE_VITALE,
        "00",
        "279035121518989",
    )
    assert client.search_by_carte_vitale("1111111111111").code == "01"


@pytest.mark.parametrize(
    "mode, reason",
    [
        (FaultMode.REFUSE, "insi_fault"),
        (FaultMode.ERROR_5XX, "insi_http_error"),
        (FaultMode.MALFORMED, "insi_bad_response"),
        (FaultMode.DROP, "insi_unreachable"),
    ],
)
def test_failures_are_insi_errors_with_a_reason(sim, client, mode, reason):
    sim.faults.inject(Fault(mode))
    with pytest.raises(InsiError) as raised:
        client.search_by_traits(MARTIN)
    assert raised.value.reason == reason and raised.value.request_id.startswith("urn:uuid:")
    assert client.search_by_traits(MARTIN).code == "00"  # one fault, then the service answers again


def test_timeout(sim):
    sim.faults.inject(Fault(FaultMode.TIMEOUT, delay_s=1.0))
    with pytest.raises(InsiError, match=r"no answer within 0\.2 s") as raised:
        HttpInsiClient(sim.endpoint, timeout=0.2).search_by_traits(MARTIN)
    assert raised.value.reason == "insi_timeout"


def test_unreachable_and_not_configured(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(InsiError) as raised:
        HttpInsiClient(f"http://127.0.0.1:{port}/insi", timeout=2).search_by_traits(MARTIN)
    assert raised.value.reason == "insi_unreachable"
    monkeypatch.delenv("DCC_INSI_URL", raising=False)
    with pytest.raises(InsiError, match="DCC_INSI_URL") as raised:
        from_settings()
    assert raised.value.reason == "insi_not_configured"
    monkeypatch.setenv("DCC_INSI_URL", f"http://127.0.0.1:{port}/insi")
    monkeypatch.setenv("DCC_INSI_TIMEOUT", "3")
    assert (from_settings().url, from_settings().timeout) == (f"http://127.0.0.1:{port}/insi", 3.0)


RESULT = """<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
 xmlns:res="http://www.cnamts.fr/INSiResultat"><env:Body><res:RESULTAT><res:CR><res:CodeCR>{code}</res:CodeCR>
 <res:LibelleCR>x</res:LibelleCR></res:CR>{individu}</res:RESULTAT></env:Body></env:Envelope>"""
INDIVIDU = """<res:INDIVIDU><res:INSACTIF><res:IdIndividu><res:NumIdentifiant>2790351215189</res:NumIdentifiant>
 <res:Cle>{cle}</res:Cle></res:IdIndividu><res:OID>1.2.250.1.213.1.4.10</res:OID></res:INSACTIF><res:TIQ>
 <res:NomNaissance>MARTIN</res:NomNaissance><res:ListePrenom>Jeanne</res:ListePrenom><res:Sexe>F</res:Sexe>
 <res:DateNaissance>1979-03-12</res:DateNaissance></res:TIQ></res:INDIVIDU>"""


@pytest.mark.parametrize(
    "body, message",
    [
        (RESULT.format(code="00", individu=INDIVIDU.format(cle="88")), "key 88 is wrong"),
        (RESULT.format(code="00", individu=""), "CodeCR 00 without INDIVIDU"),
        (RESULT.format(code="07", individu=""), "CodeCR '07' is not one of"),
        (b"<x/>", "no soap:Body/RESULTAT"),
    ],
)
def test_unusable_answers_name_what_is_wrong(body, message):
    raw = body.encode() if isinstance(body, str) else body
    with pytest.raises(InsiError, match=message) as raised:
        parse_answer(BY_TRAITS, raw, "urn:uuid:x")
    assert raised.value.reason == "insi_bad_response"


def test_mock_transport_sees_a_soap_12_request():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=RESULT.format(code="01", individu="").encode())

    client = HttpInsiClient("http://insi.invalid/insi", transport=httpx.MockTransport(handler))
    assert client.search_by_traits(SearchTraits("MARTIN", "Jeanne", "F", "1979-03-12", "75056")).code == "01"
    content_type = seen[0].headers["content-type"]
    assert (
        content_type.startswith("application/soap+xml")
        and f'action="urn:ServiceIdentiteCertifiee:1.0.0:{BY_TRAITS}"' in content_type
    )
    assert b"RECSANSVITALE" in seen[0].content and b"<LieuNaissance>75056</LieuNaissance>" in seen[0].content
