"""Hospital record (DPI, seed 002): the contextual call is a signed, expiring, single-use token in a URL the DCC
opens; the document gateway (a BAL applicative) records the FRCP/PPS the DCC pushes."""

from __future__ import annotations

import smtplib
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest

from harness.simulators.dpi.contextual import ContextualCallError, issue_token, verify_token
from harness.simulators.dpi.server import DpiSimulator
from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import FaultPlan
from harness.simulators.mss.server import MssSimulator
from tests.harness.simulators.test_mss import INS, cda, mail, xdm_zip

USER = {"idnat": "810000000001", "rpps": "10000000001", "family": "MARTIN", "given": "Claire"}
PATIENT = {
    "ins": INS,
    "ins_oid": "1.2.250.1.213.1.4.10",
    "ipp": "IPP-42",
    "ipp_oid": "1.2.250.1.999.3",
    "identity_status": "qualifiee",
    "traits": {
        "nom_naissance": "DUPONT",
        "prenoms": ["Marie", "Louise"],
        "sexe": "F",
        "date_naissance": "1979-03-15",
        "lieu_naissance": "63220",
    },
}
SECRET = "a-contextual-call-secret-of-32-bytes-or-more"
GATEWAY = "dpi@hopital-simule.mssante.fr"


class FakeDcc:
    """The receiving side as a DCC would write it from docs/simulators.md: verify, then open or pre-fill."""

    def __init__(self):
        self.used: set[str] = set()

    def app(self, request: httpx.Request) -> httpx.Response:
        token = parse_qs(urlparse(str(request.url)).query)["token"][0]
        try:
            claims = verify_token(token, secret=SECRET, audience="dcc", used_jti=self.used)
        except ContextualCallError as error:
            return httpx.Response(403, text=str(error))
        return httpx.Response(200, json={"mode": claims["mode"], "ins": claims["patient"].get("ins")})


def test_token_claims_and_single_use():
    token, claims = issue_token(secret=SECRET, issuer="dpi", audience="dcc", user=USER, patient=PATIENT)
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience="dcc")
    assert decoded["sub"] == "810000000001" and decoded["patient"]["traits"]["prenoms"] == ["Marie", "Louise"]
    assert decoded["exp"] - decoded["iat"] == 120 and decoded["mode"] == "open"
    used: set[str] = set()
    assert verify_token(token, secret=SECRET, audience="dcc", used_jti=used)["jti"] == claims["jti"]
    with pytest.raises(ContextualCallError, match="jti"):
        verify_token(token, secret=SECRET, audience="dcc", used_jti=used)


@pytest.mark.parametrize(
    ("kwargs", "claim"),
    [
        ({"secret": "another-secret-of-at-least-32-bytes!"}, "token"),
        ({"audience": "another-dcc"}, "aud"),
        ({"clock": lambda: 10**10}, "exp"),
    ],
)
def test_token_refused_naming_the_claim(kwargs, claim):
    token, _ = issue_token(secret=SECRET, issuer="dpi", audience="dcc", user=USER, patient=PATIENT)
    options = {"secret": SECRET, "audience": "dcc", "used_jti": set(), **kwargs}
    with pytest.raises(ContextualCallError, match=claim):
        verify_token(token, **options)


def test_issue_refuses_a_call_without_patient_or_user():
    with pytest.raises(ContextualCallError, match="patient"):
        issue_token(secret=SECRET, issuer="dpi", audience="dcc", user=USER, patient={})
    with pytest.raises(ContextualCallError, match=r"user\.idnat"):
        issue_token(secret=SECRET, issuer="dpi", audience="dcc", user={}, patient=PATIENT)


def test_contextual_call_over_http_opens_the_dcc(tmp_path, monkeypatch):
    evidence = EvidenceStore(tmp_path / "bundle")
    dcc = FakeDcc()
    real_get = httpx.get
    monkeypatch.setattr(
        httpx,
        "get",
        lambda url, **kw: (
            httpx.Client(transport=httpx.MockTransport(dcc.app)).get(url)
            if url.startswith("http://dcc.test")
            else real_get(url, **kw)
        ),
    )
    with DpiSimulator(evidence=evidence, faults=FaultPlan(), dcc_url="http://dcc.test", secret=SECRET) as dpi:
        with httpx.Client(base_url=dpi.base_url, timeout=10) as client:
            opened = client.post(
                "/contextual-calls", json={"user": USER, "patient": PATIENT, "follow": True}
            ).json()
            prefill = client.post(
                "/contextual-calls",
                json={
                    "user": USER,
                    "mode": "prefill",
                    "follow": True,
                    "patient": {"ipp": "IPP-77", "traits": PATIENT["traits"]},
                },
            )
            bad = client.post("/contextual-calls", json={"user": USER, "patient": PATIENT, "mode": "delete"})
    assert opened["url"].startswith("http://dcc.test/contextual?token=")
    assert opened["dcc_status"] == 200 and prefill.json()["dcc_status"] == 200
    assert bad.status_code == 400 and "mode" in bad.json()["error"]
    calls = [e.data for e in evidence.events if e.type == "dpi.contextual_call"]
    assert [(c["mode"], c["patient_ins"], c["ipp"]) for c in calls] == [
        ("open", INS, "IPP-42"),
        ("prefill", None, "IPP-77"),
    ]
    assert all(c["user_id"] == "810000000001" for c in calls)
    replay = httpx.Client(transport=httpx.MockTransport(dcc.app)).get(opened["url"])
    assert replay.status_code == 403 and "jti" in replay.text


def test_document_gateway_records_frcp_and_pps(tmp_path):
    evidence = EvidenceStore(tmp_path / "bundle")
    with (
        MssSimulator(evidence=evidence, faults=FaultPlan()) as mss,
        DpiSimulator(evidence=evidence, faults=FaultPlan(), mss=mss) as dpi,
    ):
        with smtplib.SMTP(mss.host, mss.port, timeout=10) as client:
            client.send_message(
                mail([GATEWAY], zipped=xdm_zip(cda(status="9571008"))), "bal@dcc.mssante.fr", [GATEWAY]
            )
            client.send_message(
                mail([GATEWAY], zipped=xdm_zip(cda(type_code="18776-5", status="9571008"))),
                "bal@dcc.mssante.fr",
                [GATEWAY],
            )
        with httpx.Client(base_url=dpi.base_url, timeout=10) as client:
            listed = client.get("/documents").json()["documents"]
    assert [(d["kind"], d["status"], d["patient_ins"], d["accepted"]) for d in listed] == [
        ("FRCP", "valide", INS, True),
        ("PPS", "valide", INS, True),
    ]
    received = [e for e in evidence.events if e.type == "dpi.document_received"]
    assert [e.data["document_id"] for e in received] == ["1.2.250.1.999.1^DOC-1"] * 2
    assert all(any(a.endswith(".xml") for a in e.artifacts) for e in received)
    mailbox_event = [e for e in evidence.events if e.type == "mss.message_received"][-1]
    assert mailbox_event.data["mailbox_types"] == ["APP"]


@pytest.mark.parametrize(("mode", "claim"), [("malformed", "token"), ("timeout", "exp")])
def test_faulty_contextual_calls_are_refused_by_a_correct_dcc(tmp_path, monkeypatch, mode, claim):
    from harness.simulators.faults import Fault, FaultMode

    evidence = EvidenceStore(tmp_path / "bundle")
    faults = FaultPlan()
    faults.inject(Fault(mode=FaultMode(mode), operation="contextual_call"))
    dpi = DpiSimulator(evidence=evidence, faults=faults, dcc_url="http://dcc.test", secret=SECRET)
    call = dpi.contextual_call(USER, PATIENT)
    with pytest.raises(ContextualCallError, match=claim):
        verify_token(call["token"], secret=SECRET, audience="dcc", used_jti=set())
    good = dpi.contextual_call(USER, PATIENT)  # times=1: the next call is sound
    assert verify_token(good["token"], secret=SECRET, audience="dcc", used_jti=set())["mode"] == "open"
    assert [e.data["mode"] for e in evidence.events if e.type == "dpi.fault_injected"] == [mode]
