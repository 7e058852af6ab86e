"""The DCC's Annuaire Santé FHIR client against the simulator on 127.0.0.1: search by RPPS with roles and
mailboxes, paging, refusals as AnnuaireError, and the RPPS lookup leaving the FHIR request in the simulator's
trace (what ANN.02 judges)."""

from __future__ import annotations

import pytest

from dcc.db import make_session_factory
from dcc.services import directory
from dcc.services.annuaire_client import AnnuaireError, HttpAnnuaireClient
from harness.simulators.annuaire.server import AnnuaireSimulator
from harness.simulators.evidence import EvidenceStore

KEY = "dcc-key"


@pytest.fixture(scope="module")
def evidence():
    return EvidenceStore()


@pytest.fixture(scope="module")
def annuaire(evidence):
    many = [{"rpps": f"{20_000_000_000 + n}", "family": "NOMBREUX", "given": f"P{n}"} for n in range(60)]
    data = {
        "organizations": [{"finess": "750000001", "name": "Hôpital"}],
        "practitioners": [
            {
                "rpps": "10000000001",
                "family": "MARTIN",
                "given": "Claire",
                "savoir_faire": "SM54",
                "finess_site": "750000001",
                "mailboxes": [{"address": "claire.martin@hopital-simule.mssante.fr", "type": "PER"}],
            },
            *many,
        ],
    }
    with AnnuaireSimulator(evidence=evidence, annuaire_data=data, api_key=KEY) as sim:
        yield sim


@pytest.fixture
def client(annuaire):
    client = HttpAnnuaireClient(annuaire.base_url + "/fhir/v2", KEY, timeout=5)
    yield client
    client.close()


def test_practitioner_by_rpps_with_role_and_mailbox(client, evidence):
    [found] = client.practitioners(rpps="10000000001")
    assert (found.idnat, found.rpps, found.family, found.given, found.civilite) == (
        "810000000001",
        "10000000001",
        "MARTIN",
        "Claire",
        "DR",
    )
    assert found.mailboxes == (("claire.martin@hopital-simule.mssante.fr", "PER"),)
    assert found.activities == ({"finess_site": "750000001", "savoir_faire": "SM54"},)
    searches = [e.data for e in evidence.events if e.type == "annuaire.search"]
    assert {
        "resource": "Practitioner",
        "params": {"identifier": "https://rpps.esante.gouv.fr|10000000001"},
        "count": 1,
        "error": None,
    } in searches


def test_paging_follows_next_links(client):
    assert len(client.practitioners(name="nombreux")) == 60  # two pages of the 50-per-page searchset


def test_refusals_and_unreachable(annuaire):
    wrong = HttpAnnuaireClient(annuaire.base_url + "/fhir/v2", "")
    with pytest.raises(AnnuaireError) as refused:
        wrong.practitioners(rpps="10000000001")
    assert (refused.value.reason, refused.value.status) == ("refused", 401)
    assert "ESANTE-API-KEY" in str(refused.value)
    closed = HttpAnnuaireClient("http://127.0.0.1:9/fhir/v2", KEY, timeout=1)
    with pytest.raises(AnnuaireError) as down:
        closed.practitioners(rpps="10000000001")
    assert down.value.reason == "unreachable"


def test_from_env(monkeypatch):
    monkeypatch.delenv("DCC_ANNUAIRE_URL", raising=False)
    assert HttpAnnuaireClient.from_env() is None
    monkeypatch.setenv("DCC_ANNUAIRE_URL", "http://127.0.0.1:1/fhir/v2/")
    assert HttpAnnuaireClient.from_env().base_url == "http://127.0.0.1:1/fhir/v2"


@pytest.mark.persistence
def test_lookup_rpps_through_the_simulator(engine, client, evidence):
    factory = make_session_factory(engine)
    with factory() as session:
        found, source, error = directory.lookup_rpps(session, "u1", "10000000001", client)
        assert (source, error, found[0].mss_address) == (
            "fhir",
            None,
            "claire.martin@hopital-simule.mssante.fr",
        )
        session.rollback()
    assert (
        evidence.events[-2].type == "annuaire.search"
        and evidence.events[-2].data["resource"] == "Practitioner"
    )
