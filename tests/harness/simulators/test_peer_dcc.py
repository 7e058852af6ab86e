"""Peer DCC (§2.1.4): an FRCP au statut « complété » mailed to its BAL applicative comes back validated —
same setId, versionNumber + 1, RPLC, status 9571008, custodian = the peer — by SMTP to the source DCC."""

from __future__ import annotations

import os
import smtplib
from pathlib import Path

import httpx
import pytest
from lxml import etree

from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import FaultPlan
from harness.simulators.mss.server import MssSimulator
from harness.simulators.peer_dcc.server import PeerDccSimulator
from tests.harness.simulators.test_mss import cda, mail, xdm_zip

NS = {"cda": "urn:hl7-org:v3", "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"}
SOURCE_BAL = "bal.dcc@dcc-region.mssante.fr"
PEER = "rcp@dcc-pair.mssante.fr"
CISIS = Path(os.environ.get("DCC_CISIS_DIR") or Path(__file__).resolve().parents[3].parent / "shared/ci-sis")
ANS_FRCP = CISIS / "testcontenucda/ExemplesCDA/CANCER-FRCP_2025.01_Appareil.xml"


@pytest.fixture
def setup(tmp_path):
    evidence = EvidenceStore(tmp_path / "bundle")
    with (
        MssSimulator(evidence=evidence, faults=FaultPlan()) as mss,
        PeerDccSimulator(evidence=evidence, faults=FaultPlan(), mss=mss) as peer,
    ):
        yield evidence, mss, peer


def send(mss, message):
    with smtplib.SMTP(mss.host, mss.port, timeout=10) as client:
        client.send_message(message, SOURCE_BAL, [PEER])


def returned_cda(mss) -> etree._Element:
    import io
    import zipfile

    delivered = mss.mailbox(SOURCE_BAL)
    assert len(delivered) == 1
    with zipfile.ZipFile(io.BytesIO(delivered[0].analysis.xdm_bytes)) as archive:
        return etree.fromstring(archive.read("IHE_XDM/SUBSET01/DOC0001.XML"))


def test_completed_frcp_comes_back_validated(setup):
    evidence, mss, peer = setup
    send(mss, mail([PEER]))
    assert peer.wait_idle()
    doc = returned_cda(mss)
    assert doc.find("cda:setId", NS).get("extension") == "SET-1"
    assert doc.find("cda:versionNumber", NS).get("value") == "2"
    assert (
        doc.find("cda:relatedDocument[@typeCode='RPLC']/cda:parentDocument/cda:id", NS).get("extension")
        == "DOC-1"
    )
    assert doc.find("cda:id", NS).get("extension") != "DOC-1"
    assert (
        doc.xpath(
            "string(//cda:section[cda:templateId/@root='1.2.250.1.213.1.1.2.35']//cda:value/@code)",
            namespaces=NS,
        )
        == "9571008"
    )
    assert (
        doc.xpath(
            "string(cda:custodian//cda:representedCustodianOrganization/cda:id/@extension)", namespaces=NS
        )
        == "1690000002"
    )
    kinds = [
        (e.type, e.data.get("version"), e.data.get("status"))
        for e in evidence.events
        if e.source == "peer-dcc"
    ]
    assert kinds == [("peer.frcp_received", 1, "complete"), ("peer.frcp_returned", 2, "valide")]
    with httpx.Client(base_url=peer.base_url, timeout=10) as client:
        listed = client.get("/frcp").json()
    assert listed["returned"][0]["result"] == "success" and listed["returned"][0]["to"] == SOURCE_BAL
    assert listed["returned"][0]["custodian"] == "1.2.250.1.71.4.2.2^1690000002"
    assert listed["returned"][0]["previous_version"] == 1


def test_frcp_not_complete_is_not_returned(setup):
    evidence, mss, peer = setup
    send(mss, mail([PEER], zipped=xdm_zip(cda(status="385651009"))))  # en cours
    assert peer.wait_idle()
    received = [e for e in evidence.events if e.type == "peer.frcp_received"][-1]
    assert received.data["accepted"] is False and "complété" in received.data["error"]
    assert mss.mailbox(SOURCE_BAL) == []
    assert not [e for e in evidence.events if e.type == "peer.frcp_returned"]


def test_not_an_frcp_is_refused_naming_the_xpath(setup):
    evidence, mss, peer = setup
    send(mss, mail([PEER], zipped=xdm_zip(cda(type_code="18776-5"))))
    assert peer.wait_idle()
    received = [e for e in evidence.events if e.type == "peer.frcp_received"][-1]
    assert "/ClinicalDocument/code/@code" in received.data["error"]


@pytest.mark.skipif(not ANS_FRCP.exists(), reason="needs the CI-SIS examples (DCC_CISIS_DIR)")
def test_the_ans_frcp_example_is_validated_in_place():
    from harness.simulators.peer_dcc.frcp import validate_frcp

    source = ANS_FRCP.read_bytes().replace(b'code="385651009"', b'code="398166005"', 1)
    _, before, after = validate_frcp(source, custodian_finess="690000002", custodian_name="Peer")
    assert (before.version, before.status) == (1, "complete")
    assert (after.version, after.status, after.set_id) == (2, "valide", before.set_id)
    assert after.ins == before.ins == "279035121518989"


@pytest.mark.parametrize("mode", ["refuse", "error_5xx", "drop", "timeout", "slow", "malformed"])
def test_faults_on_the_return(tmp_path, mode):
    from harness.simulators.faults import Fault, FaultMode
    from harness.simulators.mss.cda import CdaError, parse

    evidence = EvidenceStore(tmp_path / "bundle")
    faults = FaultPlan()
    faults.inject(Fault(mode=FaultMode(mode), operation="return", delay_s=0.1))
    with (
        MssSimulator(evidence=evidence, faults=FaultPlan()) as mss,
        PeerDccSimulator(evidence=evidence, faults=faults, mss=mss) as peer,
    ):
        send(mss, mail([PEER]))
        assert peer.wait_idle()
        returned = mss.mailbox(SOURCE_BAL)
    assert [e.data["mode"] for e in evidence.events if e.type == "peer.fault_injected"] == [mode]
    if mode in ("refuse", "error_5xx", "drop"):
        assert returned == []
        assert peer.returned[-1]["result"] == "failure"
    elif mode == "malformed":
        with pytest.raises(CdaError):
            parse(returned[0].analysis.xdm.documents[0].content)
    else:
        assert len(returned) == 1 and peer.returned[-1]["result"] == "success"
