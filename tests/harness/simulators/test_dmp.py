"""DMP simulator, driven by an XDS.b client written from the IHE specification (MTOM built by hand with the
standard library, httpx over a real loopback socket)."""

from __future__ import annotations

import time
import uuid
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart

import httpx
import pytest
from lxml import etree

from harness.simulators.dmp import DmpSimulator
from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import Fault, FaultMode
from harness.simulators.psc import PscSimulator

NS = {
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "xds": "urn:ihe:iti:xds-b:2007",
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "xop": "http://www.w3.org/2004/08/xop/include",
}
INS = "279035121518989"
PATIENT = f"{INS}^^^&1.2.250.1.213.1.4.10&ISO"
SCHEMES = {
    "type": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "class": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "format": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "conf": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
}
CDA = (
    b'<ClinicalDocument xmlns="urn:hl7-org:v3"><setId root="1.2.3" extension="S1"/><component><structuredBody>'
    b'<component><section><templateId root="1.2.250.1.213.1.1.2.35"/><entry><observation><value code="9571008"/>'
    b"</observation></entry></section></component></structuredBody></component></ClinicalDocument>"
)


def submission(unique_id, type_code="34794-8", confidentiality=("N",), patient=PATIENT, replaces=None):
    entry = f"urn:uuid:{uuid.uuid4()}"
    classes = "".join(
        f'<rim:Classification classificationScheme="{SCHEMES["conf"]}" classifiedObject="{entry}" '
        f'nodeRepresentation="{c}"/>'
        for c in confidentiality
    )
    rplc = (
        (
            f'<rim:Association id="urn:uuid:{uuid.uuid4()}" associationType="urn:ihe:iti:2007:AssociationType:RPLC" '
            f'sourceObject="{entry}" targetObject="{replaces}"/>'
        )
        if replaces
        else ""
    )
    return (
        entry,
        f"""<soap:Envelope xmlns:soap="{NS["soap"]}"><soap:Header/><soap:Body>
<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds="{NS["xds"]}" xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
  xmlns:rim="{NS["rim"]}" xmlns:xop="{NS["xop"]}">
 <lcm:SubmitObjectsRequest><rim:RegistryObjectList>
  <rim:ExtrinsicObject id="{entry}" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
   <rim:Classification classificationScheme="{SCHEMES["type"]}" classifiedObject="{entry}" nodeRepresentation="{type_code}"/>
   <rim:Classification classificationScheme="{SCHEMES["class"]}" classifiedObject="{entry}" nodeRepresentation="10"/>
   <rim:Classification classificationScheme="{SCHEMES["format"]}" classifiedObject="{entry}" nodeRepresentation="urn:asip:ci-sis:frcp:2011"/>
   {classes}
   <rim:ExternalIdentifier identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="{unique_id}"/>
   <rim:ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="{patient.replace("&", "&amp;")}"/>
  </rim:ExtrinsicObject>{rplc}
 </rim:RegistryObjectList></lcm:SubmitObjectsRequest>
 <xds:Document id="{entry}"><xop:Include href="cid:doc1@client"/></xds:Document>
</xds:ProvideAndRegisterDocumentSetRequest></soap:Body></soap:Envelope>""",
    )


def mtom(envelope: str, document: bytes = CDA) -> tuple[str, bytes]:
    message = MIMEMultipart("related", type="application/xop+xml", start="<root@client>")
    root = MIMEApplication(envelope.encode(), "xop+xml", lambda m: None)
    root.add_header("Content-ID", "<root@client>")
    doc = MIMEApplication(document, "octet-stream", lambda m: None)
    doc.add_header("Content-ID", "<doc1@client>")
    message.attach(root)
    message.attach(doc)
    raw = message.as_bytes()
    _head, body = raw.split(b"\n\n", 1)
    content_type = message["Content-Type"].replace("\n", "").replace("\r", "")
    return content_type, body


@pytest.fixture
def stack():
    with PscSimulator() as psc, DmpSimulator(evidence=EvidenceStore(), psc=psc) as dmp:
        token = psc.sign(
            {
                "sub": "f:810001234567",
                "SubjectNameID": "810001234567",
                "token_use": "psc_trust_space",
                "exp": int(time.time()) + 300,
            }
        )
        yield dmp, token


def post(dmp, token, content_type, body, timeout=5.0):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(dmp.endpoint_url, content=body, headers=headers, timeout=timeout)


def status(response):
    root = etree.fromstring(response.content)
    node = root.find(".//rs:RegistryResponse", NS)
    if node is None:
        node = root.find(".//query:AdhocQueryResponse", NS)
    return node.get("status").rsplit(":", 1)[-1], [
        e.get("errorCode") for e in root.findall(".//rs:RegistryError", NS)
    ]


def find_documents(dmp, token, patient=PATIENT):
    body = f"""<soap:Envelope xmlns:soap="{NS["soap"]}"><soap:Body><query:AdhocQueryRequest xmlns:query="{NS["query"]}"
 xmlns:rim="{NS["rim"]}"><query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>
 <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
 <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'{patient.replace("&", "&amp;")}'</rim:Value></rim:ValueList></rim:Slot>
 <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
 </rim:AdhocQuery></query:AdhocQueryRequest></soap:Body></soap:Envelope>"""
    return post(dmp, token, "application/soap+xml", body.encode())


def test_provide_find_retrieve_and_replace(stack):
    dmp, token = stack
    entry, envelope = submission("1.2.3.4^F1", confidentiality=("N", "INVISIBLE_PATIENT"))
    response = post(dmp, token, *mtom(envelope))
    assert status(response) == ("Success", [])
    found = find_documents(dmp, token)
    root = etree.fromstring(found.content)
    (obj,) = root.findall(".//rim:ExtrinsicObject", NS)
    assert obj.find("rim:ExternalIdentifier[@value='1.2.3.4^F1']", NS) is not None
    retrieve = f"""<soap:Envelope xmlns:soap="{NS["soap"]}"><soap:Body><xds:RetrieveDocumentSetRequest xmlns:xds="{NS["xds"]}">
 <xds:DocumentRequest><xds:RepositoryUniqueId>1.2.250.1.213.1.1.9.99</xds:RepositoryUniqueId>
 <xds:DocumentUniqueId>1.2.3.4^F1</xds:DocumentUniqueId></xds:DocumentRequest></xds:RetrieveDocumentSetRequest></soap:Body></soap:Envelope>"""
    got = post(dmp, token, "application/soap+xml", retrieve.encode())
    assert got.headers["content-type"].startswith("multipart/related")
    assert CDA in got.content
    # RPLC: a visible version replaces the invisible one
    _, envelope2 = submission("1.2.3.4^F1v2", replaces=entry)
    assert status(post(dmp, token, *mtom(envelope2))) == ("Success", [])
    root = etree.fromstring(find_documents(dmp, token).content)
    assert [
        o.find("rim:ExternalIdentifier[@value]", NS).get("value")
        for o in root.findall(".//rim:ExtrinsicObject", NS)
    ] == ["1.2.3.4^F1v2"]
    events = [e.data for e in dmp.evidence.events if e.type == "dmp.provide_and_register"]
    assert events[0]["invisible_patient"] is True and events[0]["document_status"] == "valide"
    assert events[0]["set_id"] == "1.2.3^S1" and events[0]["actor_rpps"] == "10001234567"
    assert events[1]["replaces"] == "1.2.3.4^F1" and events[1]["invisible_patient"] is False
    assert events[1]["frcp_invisible_in_dmp"] is True and events[0]["token_kind"] == "psc_trust_space"


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"patient": "999999999999999^^^&1.2.250.1.213.1.4.10&ISO"}, "XDSUnknownPatientId"),
        ({"patient": f"{INS}^^^&1.2.250.1.71.4.2.1&ISO"}, "DMPIdentifiantNonINSQualifie"),
        ({"patient": "209076322083439^^^&1.2.250.1.213.1.4.10&ISO"}, "DMPOppositionPatient"),
    ],
)
def test_rejections_are_registry_errors(stack, kwargs, code):
    dmp, token = stack
    _, envelope = submission("1.2.3.4^X", **kwargs)
    assert status(post(dmp, token, *mtom(envelope))) == ("Failure", [code])
    (event,) = [e.data for e in dmp.evidence.events if e.type == "dmp.provide_and_register"]
    assert event["result"] == "failure" and event["error_code"] == code


def test_duplicate_unique_id_and_missing_metadata(stack):
    dmp, token = stack
    _, envelope = submission("1.2.3.4^D")
    assert status(post(dmp, token, *mtom(envelope))) == ("Success", [])
    _, again = submission("1.2.3.4^D")
    assert status(post(dmp, token, *mtom(again))) == ("Failure", ["XDSDuplicateUniqueIdInRegistry"])
    assert [e.data["duplicate"] for e in dmp.evidence.events if e.type == "dmp.provide_and_register"] == [
        False,
        True,
    ]
    _, no_conf = submission("1.2.3.4^E", confidentiality=())
    assert status(post(dmp, token, *mtom(no_conf)))[1] == ["XDSRegistryMetadataError"]


def test_access_token_required_and_hostile_input(stack):
    dmp, token = stack
    _, envelope = submission("1.2.3.4^T")
    assert post(dmp, None, *mtom(envelope)).status_code == 401
    assert post(dmp, "not-a-jwt", *mtom(envelope)).status_code == 401
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    bad = post(dmp, token, "application/soap+xml", xxe)
    assert bad.status_code == 400 and b"root:" not in bad.content and b"soap:Fault" in bad.content
    assert post(dmp, token, "application/soap+xml", b"garbage").status_code == 400
    assert post(dmp, token, 'multipart/related; boundary="x"', b"--x--").status_code == 400
    assert status(post(dmp, token, *mtom(envelope))) == ("Success", [])


def test_no_consent_refuses_consultation(stack):
    dmp, token = stack
    assert status(find_documents(dmp, token, "185027505612345^^^&1.2.250.1.213.1.4.10&ISO"))[1] == [
        "DMPConsentementRequis"
    ]


def test_each_fault_mode(stack):
    dmp, token = stack
    _, envelope = submission("1.2.3.4^F")
    ct, body = mtom(envelope)
    dmp.faults.inject(Fault(FaultMode.REFUSE))
    assert status(post(dmp, token, ct, body)) == ("Failure", ["XDSRegistryBusy"])
    dmp.faults.inject(Fault(FaultMode.ERROR_5XX))
    assert post(dmp, token, ct, body).status_code == 503
    dmp.faults.inject(Fault(FaultMode.SLOW, delay_s=0.3))
    start = time.monotonic()
    assert status(post(dmp, token, ct, body)) == ("Success", []) and time.monotonic() - start >= 0.3
    dmp.faults.inject(Fault(FaultMode.TIMEOUT, delay_s=1.5))
    with pytest.raises(httpx.TimeoutException):
        post(dmp, token, ct, body, timeout=0.4)
    dmp.faults.inject(Fault(FaultMode.MALFORMED))
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(post(dmp, token, ct, body).content)
    dmp.faults.inject(Fault(FaultMode.DROP))
    with pytest.raises(httpx.HTTPError):
        post(dmp, token, ct, body)
    time.sleep(1.5)
    assert find_documents(dmp, token).status_code == 200


def test_example_request_is_accepted():
    from harness.simulators.dmp.examples import example_provide_and_register

    with DmpSimulator() as dmp:
        url, headers, body = example_provide_and_register(dmp)
        first = httpx.post(url, headers=headers, content=body)
        second = httpx.post(url, headers=headers, content=body)
        assert status(first) == ("Success", []) and status(second) == (
            "Failure",
            ["XDSDuplicateUniqueIdInRegistry"],
        )
