"""Annuaire Santé simulator over HTTP on 127.0.0.1, with a client written from the ANS FHIR API v2
documentation (httpx, ESANTE-API-KEY header, FHIR search syntax): search by RPPS, IdNat, MSS mailbox and name,
paging, OperationOutcome for every refusal, every fault mode, extraction files."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import httpx
import pytest

from harness.simulators.annuaire.server import AnnuaireSimulator
from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import Fault, FaultMode, FaultPlan

KEY = {"ESANTE-API-KEY": "test-key"}


@pytest.fixture
def evidence(tmp_path):
    return EvidenceStore(tmp_path / "bundle")


@pytest.fixture
def faults():
    return FaultPlan()


@pytest.fixture
def annuaire(evidence, faults):
    with AnnuaireSimulator(evidence=evidence, faults=faults) as sim:
        yield sim


def fhir(sim: AnnuaireSimulator) -> httpx.Client:
    return httpx.Client(base_url=sim.base_url + "/fhir/v2", headers=KEY, timeout=10)


def test_search_practitioner_by_rpps(annuaire, evidence):
    with fhir(annuaire) as client:
        response = client.get(
            "/Practitioner", params={"identifier": "https://rpps.esante.gouv.fr|10000000001"}
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset" and bundle["total"] == 1
    practitioner = bundle["entry"][0]["resource"]
    assert {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810000000001"} in [
        {k: i[k] for k in ("system", "value")} for i in practitioner["identifier"]
    ]
    assert practitioner["name"][0]["family"] == "MARTIN"
    event = [e for e in evidence.events if e.type == "annuaire.search"][-1]
    assert event.data["resource"] == "Practitioner" and event.data["count"] == 1


def test_search_by_idnps_mailbox_and_name(annuaire):
    with fhir(annuaire) as client:
        by_idnat = client.get(
            "/Practitioner", params={"identifier": "urn:oid:1.2.250.1.71.4.2.1|810000000002"}
        ).json()
        by_box = client.get("/Practitioner", params={"mailbox-mss:contains": "@medecin.mssante.fr"}).json()
        by_name = client.get(
            "/Practitioner", params={"name": "lefevre"}
        ).json()  # accent- and case-insensitive
        wrong_system = client.get(
            "/Practitioner", params={"identifier": "https://rpps.esante.gouv.fr|810000000002"}
        ).json()
        roles = client.get(
            "/PractitionerRole", params={"mailbox-mss": "claire.martin@hopital-simule.mssante.fr"}
        ).json()
        orgs = client.get(
            "/Organization", params={"identifier": "https://finess.esante.gouv.fr|750000001"}
        ).json()
    assert [e["resource"]["name"][0]["family"] for e in by_idnat["entry"]] == ["DUPONT"]
    assert sorted(e["resource"]["name"][0]["family"] for e in by_box["entry"]) == ["BERNARD", "DUPONT"]
    assert [e["resource"]["name"][0]["family"] for e in by_name["entry"]] == ["LEFÈVRE"]
    assert wrong_system["total"] == 0
    assert roles["entry"][0]["resource"]["practitioner"]["reference"] == "Practitioner/810000000001"
    assert orgs["entry"][0]["resource"]["name"] == "Hôpital Simulé Saint-Louis"


def test_post_search_and_read(annuaire):
    with fhir(annuaire) as client:
        posted = client.post("/Practitioner/_search", data={"identifier": "10000000003"})
        read = client.get("/Practitioner/810000000003")
        missing = client.get("/Practitioner/899999999999")
    assert posted.json()["total"] == 1
    assert read.json()["id"] == "810000000003"
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_paging_50_per_page_with_next_links(evidence, faults):
    data = {
        "practitioners": [
            {
                "rpps": f"2{n:010d}",
                "family": f"NOM{n:03d}",
                "given": "Test",
                "mailboxes": [{"address": f"p{n}@medecin.mssante.fr"}],
            }
            for n in range(120)
        ]
    }
    with AnnuaireSimulator(evidence=evidence, faults=faults, annuaire_data=data) as sim, fhir(sim) as client:
        url: str | None = sim.base_url + "/fhir/v2/Practitioner?name=NOM"
        pages = []
        while url:
            bundle = client.get(url).json()
            pages.append(len(bundle["entry"]))
            url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        assert bundle["total"] == 120
    assert pages == [50, 50, 20]


@pytest.mark.parametrize(
    ("path", "params", "headers", "status"),
    [
        ("/Practitioner", {"identifier": "10000000001"}, {}, 401),
        ("/Practitioner", {"unknown-param": "x"}, KEY, 400),
        ("/Practitioner", {"_count": "abc"}, KEY, 400),
        ("/Practitioner", {"_count": "5000"}, KEY, 400),
        ("/Patient", {"identifier": "x"}, KEY, 404),
        ("/Practitioner", {"identifier": ""}, KEY, 400),
    ],
)
def test_bad_requests_get_an_operation_outcome(annuaire, path, params, headers, status):
    with httpx.Client(base_url=annuaire.base_url + "/fhir/v2", headers=headers, timeout=10) as client:
        response = client.get(path, params=params)
        assert response.status_code == status
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
        assert (
            client.get("/Practitioner", params={"identifier": "10000000001"}, headers=KEY).json()["total"]
            == 1
        )


@pytest.mark.parametrize(("mode", "status"), [(FaultMode.REFUSE, 403), (FaultMode.ERROR_5XX, 503)])
def test_fault_refuse_and_5xx_are_operation_outcomes(annuaire, faults, mode, status):
    faults.inject(Fault(mode=mode))
    with fhir(annuaire) as client:
        response = client.get("/Practitioner", params={"identifier": "10000000001"})
        assert response.status_code == status
        assert response.json()["resourceType"] == "OperationOutcome"
        assert client.get("/Practitioner", params={"identifier": "10000000001"}).status_code == 200


def test_fault_timeout(annuaire, faults):
    faults.inject(Fault(mode=FaultMode.TIMEOUT, delay_s=1.5))
    with fhir(annuaire) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/Practitioner", params={"identifier": "10000000001"}, timeout=0.5)


def test_fault_slow_still_answers(annuaire, faults, evidence):
    faults.inject(Fault(mode=FaultMode.SLOW, delay_s=0.2))
    with fhir(annuaire) as client:
        assert client.get("/Practitioner", params={"identifier": "10000000001"}).json()["total"] == 1
    assert [e.data["mode"] for e in evidence.events if e.type == "annuaire.fault_injected"] == ["slow"]


def test_fault_malformed_body(annuaire, faults):
    faults.inject(Fault(mode=FaultMode.MALFORMED))
    with fhir(annuaire) as client:
        response = client.get("/Practitioner", params={"identifier": "10000000001"})
    with pytest.raises(ValueError):
        response.json()


def test_fault_drop_closes_the_connection(annuaire, faults):
    faults.inject(Fault(mode=FaultMode.DROP))
    with fhir(annuaire) as client:
        with pytest.raises(httpx.TransportError):
            client.get("/Practitioner", params={"identifier": "10000000001"})
        assert client.get("/Practitioner", params={"identifier": "10000000001"}).status_code == 200


def test_in_process_client_serves_the_same_app(evidence, faults):
    sim = AnnuaireSimulator(evidence=evidence, faults=faults)
    with sim.client() as client:
        response = client.get("/fhir/v2/Practitioner", params={"identifier": "10000000004"}, headers=KEY)
    assert (
        response.json()["entry"][0]["resource"]["telecom"][0]["value"] == "cabinet.bernard@medecin.mssante.fr"
    )


def test_extraction_files_are_pipe_separated_with_trailing_pipe(evidence, faults):
    when = datetime(2026, 11, 24, 20, 15, tzinfo=UTC)
    with AnnuaireSimulator(evidence=evidence, faults=faults, extraction_time=when) as sim:
        content = httpx.get(sim.base_url + "/extractions/PS_LibreAcces.zip", timeout=10).content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = sorted(archive.namelist())
        personnes = (
            archive.read("PS_LibreAcces_Personne_activite_202611242015.txt").decode("utf-8").splitlines()
        )
        boxes = (
            archive.read("Extraction_Correspondance_MSSante_202611242015.txt").decode("utf-8").splitlines()
        )
    assert names == [
        "Extraction_Correspondance_MSSante_202611242015.txt",
        "PS_LibreAcces_Personne_activite_202611242015.txt",
    ]
    assert personnes[0].startswith("Type d'identifiant PP|Identifiant PP|Identification nationale PP|")
    assert all(line.endswith("|") for line in personnes + boxes)
    header = personnes[0].split("|")
    martin = dict(zip(header, personnes[1].split("|"), strict=True))
    assert (
        martin["Identifiant PP"] == "10000000001" and martin["Identification nationale PP"] == "810000000001"
    )
    assert martin["Nom d'exercice"] == "MARTIN"
    assert boxes[0].startswith(
        "type_bal|adresse_bal|type_identifiant_pp|identifiant_pp|identification_nationale_pp|"
    )
    assert any(line.startswith("APP|dpi@hopital-simule.mssante.fr|") for line in boxes)


def test_bad_directory_file_names_the_entry(tmp_path):
    from harness.simulators.annuaire.data import DirectoryError, load

    path = tmp_path / "annuaire.yaml"
    path.write_text("practitioners:\n  - {rpps: '123', family: X, given: Y}\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match=r"practitioners\[0\]\.rpps"):
        load(path)
