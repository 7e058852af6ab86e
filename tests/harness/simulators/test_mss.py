"""MSSanté simulator over a real SMTP socket on 127.0.0.1, driven by a client written from the public
specification (smtplib, email, zipfile): IHE XDM mail in, DSN/MDN out, hostile input refused with 5xx."""

from __future__ import annotations

import email
import email.policy
import io
import smtplib
import socket
import zipfile
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import Fault, FaultMode, FaultPlan
from harness.simulators.mss.message import MessageRefused, analyse
from harness.simulators.mss.server import MssSimulator

INS = "279035121518989"
SENDER = "bal.dcc@dcc-region.mssante.fr"
PRO = "claire.martin@hopital-simule.mssante.fr"

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"


def cda(ins: str | None = INS, status: str = "398166005", type_code: str = "34794-8") -> bytes:
    patient_id = f'<id root="1.2.250.1.213.1.4.10" extension="{ins}"/>' if ins else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <id root="1.2.250.1.999.1" extension="DOC-1"/>
  <code code="{type_code}" codeSystem="2.16.840.1.113883.6.1"/>
  <effectiveTime value="20261124120000+0100"/>
  <setId root="1.2.250.1.999.2" extension="SET-1"/>
  <versionNumber value="1"/>
  <recordTarget><patientRole>{patient_id}<id root="1.2.250.1.999.3" extension="IPP-42"/></patientRole></recordTarget>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <id root="1.2.250.1.71.4.2.2" extension="1750000001"/></representedCustodianOrganization></assignedCustodian></custodian>
  <componentOf/>
  <component><structuredBody><component><section>
    <templateId root="1.2.250.1.213.1.1.2.35"/>
    <code code="33557-0" codeSystem="2.16.840.1.113883.6.1"/>
    <text><table><tbody><tr><td>Statut du document</td><td>complété</td></tr></tbody></table></text>
    <entry><observation classCode="OBS" moodCode="EVN"><effectiveTime value="20261124"/>
      <value code="{status}" codeSystem="2.16.840.1.113883.6.96"/></observation></entry>
  </section></component></structuredBody></component>
</ClinicalDocument>""".encode()


def xdm_zip(document: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """IHE XDM layout, written from ITI TF-1 §16 / ITI-32 and the ANS MSS guide, not from the simulator."""
    metadata = f"""<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="{RIM}">
 <rim:RegistryObjectList>
  <rim:ExtrinsicObject id="Doc1" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
   <rim:Slot name="URI"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>
   <rim:Classification classificationScheme="urn:uuid:f0306f51-975f-434e-a61c-c59651d33983" classifiedObject="Doc1" nodeRepresentation="34794-8" id="c1"/>
   <rim:Classification classificationScheme="urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d" classifiedObject="Doc1" nodeRepresentation="urn:asip:ci-sis:frcp:2011" id="c2"/>
   <rim:ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" registryObject="Doc1" value="{INS}^^^&amp;1.2.250.1.213.1.4.10&amp;ISO" id="e1"/>
  </rim:ExtrinsicObject>
 </rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>""".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", "<html><body>XDM</body></html>")
        archive.writestr("README.TXT", "IHE XDM")
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata)
        archive.writestr("IHE_XDM/SUBSET01/DOC0001.XML", document)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def mail(
    to: list[str],
    *,
    zipped: bytes | None = None,
    subject: str = "XDM/1.0/DDM+Fiche RCP DUPONT Jean 01/02/1960",
    headers: dict[str, str] | None = None,
    mdn: bool = False,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid(domain="dcc-region.mssante.fr")
    for key, value in {
        "X-MSS-INS": INS,
        "X-MSS-CODECDA": "34794-8",
        "X-MSS-MES": "FIN",
        **(headers or {}),
    }.items():
        message[key] = value
    if mdn:
        message["Disposition-Notification-To"] = SENDER
    message.set_content("Fiche RCP en pièce jointe.")
    message.add_attachment(
        zipped if zipped is not None else xdm_zip(cda()),
        maintype="application",
        subtype="zip",
        filename="IHE_XDM.zip",
    )
    return message


@pytest.fixture
def evidence(tmp_path):
    return EvidenceStore(tmp_path / "bundle")


@pytest.fixture
def mss(evidence):
    faults = FaultPlan()
    with MssSimulator(evidence=evidence, faults=faults, mailboxes={"rcp@dcc-pair.mssante.fr": "APP"}) as sim:
        yield sim


def send(sim: MssSimulator, message: EmailMessage, to: list[str] | None = None, timeout: float = 10) -> dict:
    with smtplib.SMTP(sim.host, sim.port, timeout=timeout) as client:
        return client.send_message(message, SENDER, to or [a.strip() for a in message["To"].split(",")])


def events(evidence: EvidenceStore, kind: str) -> list:
    return [e for e in evidence.events if e.type == kind]


def test_xdm_mail_is_delivered_and_answered_with_a_dsn(mss, evidence):
    patient = f"{INS}@patient.mssante.fr"
    refused = send(mss, mail([PRO, patient, "rcp@dcc-pair.mssante.fr"]))
    assert refused == {}
    per_recipient = events(evidence, "mss.message_received")
    assert [(e.data["to_address"], e.data["mailbox_types"]) for e in per_recipient] == [
        (PRO, ["PER"]),
        (patient, ["PATIENT"]),
        ("rcp@dcc-pair.mssante.fr", ["APP"]),
    ]
    received = per_recipient[-1]
    assert received.data["accepted"] is True and received.data["duplicate"] is False
    assert (
        received.data["document_id"] == "1.2.250.1.999.1^DOC-1"
        and received.data["document_status"] == "complete"
    )
    assert received.data["document_formats"] == ["cda_n3"] and received.data["type_codes"] == ["34794-8"]
    assert received.data["xdm_complete"] is True and received.data["has_pdf"] is False
    assert received.data["matricule_in_cda"] is True and received.data["patients"] == 1
    assert received.data["patient_ins"] == INS
    assert received.data["headers"]["X-MSS-MES"] == "FIN"
    assert received.data["xdm"]["documents"][0]["format_code"] == "urn:asip:ci-sis:frcp:2011"
    assert any(a.endswith(".eml") for a in received.artifacts)
    assert any(a.endswith(".zip") for a in received.artifacts)
    eml = email.message_from_bytes(evidence.read(received.artifacts[0]), policy=email.policy.default)
    assert eml["X-MSS-INS"] == INS
    dsn = mss.outbox[-1]
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    status = next(p for p in dsn.walk() if p.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert "Action: delivered" in text and f"Final-Recipient: rfc822; {patient}" in text
    assert dsn["To"] == SENDER
    ack = events(evidence, "mss.ack_sent")[-1]
    assert ack.data["kind"] == "dsn" and ack.artifacts and ack.artifacts[0].endswith(".eml")
    assert len(mss.mailbox(patient)) == 1


def test_mdn_processed_when_asked(mss, evidence):
    send(mss, mail([PRO], mdn=True))
    mdn = mss.outbox[-1]
    assert mdn.get_param("report-type") == "disposition-notification"
    part = next(p for p in mdn.walk() if p.get_content_type() == "message/disposition-notification")
    assert "processed" in part.as_string() and "error" not in part.as_string()
    assert [e.data["kind"] for e in events(evidence, "mss.ack_sent")] == ["dsn", "mdn"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"subject": "Fiche RCP"}, 900),
        ({"headers": {"X-MSS-INS": "179035121518989"}}, 904),
        ({"zipped": xdm_zip(cda(ins=None)), "headers": {"X-MSS-INS": ""}}, 903),
        ({"zipped": xdm_zip(cda(ins="27903512151"))}, 905),
        ({"zipped": xdm_zip(b"<not-a-cda/>")}, 906),
    ],
)
def test_error_mdn_with_ko_subject_and_code(mss, evidence, kwargs, code):
    headers = kwargs.pop("headers", {})
    message = mail([PRO], mdn=True, headers=headers, **kwargs)
    if headers.get("X-MSS-INS") == "":
        del message["X-MSS-INS"]
    send(mss, message)
    mdn = mss.outbox[-1]
    assert str(mdn["Subject"]).startswith(f"[KO Intégration système !][{code}]")
    part = next(p for p in mdn.walk() if p.get_content_type() == "message/disposition-notification")
    assert "processed/error" in part.as_string()
    assert events(evidence, "mss.ack_sent")[-1].data["code"] == code
    assert events(evidence, "mss.message_received")[-1].data["error_code"] == code


def test_unknown_patient_and_unauthorised_author(evidence):
    with MssSimulator(evidence=evidence, faults=FaultPlan(), known_patients=["190000000000000"]) as sim:
        send(sim, mail([PRO], mdn=True))
        assert str(sim.outbox[-1]["Subject"]).startswith("[KO Intégration système !][902]")
    with MssSimulator(
        evidence=evidence, faults=FaultPlan(), authorised_senders=["someone@x.mssante.fr"]
    ) as sim:
        send(sim, mail([PRO], mdn=True))
        assert str(sim.outbox[-1]["Subject"]).startswith("[KO Intégration système !][901]")


def test_acknowledgements_go_to_the_return_smtp_when_configured(evidence):
    from aiosmtpd.controller import Controller

    class Inbound:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, envelope.content))
            return "250 OK"

    inbound = Inbound()
    with socket.socket() as probe:  # aiosmtpd's Controller needs a concrete port to wake itself up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbound, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with MssSimulator(evidence=evidence, faults=FaultPlan(), return_smtp=f"127.0.0.1:{port}") as sim:
            send(sim, mail([PRO]))
            assert sim.outbox == []
        mail_from, content = inbound.messages[0]
        assert mail_from in ("", "<>")  # null reverse-path: a DSN is never itself acknowledged
        assert b"report-type=delivery-status" in content or b'report-type="delivery-status"' in content
    finally:
        controller.stop()


@pytest.mark.parametrize(
    "recipient",
    ["someone@gmail.com", "12345@patient.mssante.fr", "not an address"],
)
def test_recipients_outside_the_trust_space_are_refused_with_5xx(mss, recipient):
    with smtplib.SMTP(mss.host, mss.port, timeout=10) as client:
        client.ehlo()
        client.mail(SENDER)
        code, _ = client.rcpt(recipient)
    assert 550 <= code <= 553


@pytest.mark.parametrize(
    "extra",
    [
        {"../../etc/evil": b"x"},
        {f"IHE_XDM/SUBSET01/F{n}.TXT": b"" for n in range(2000)},
        {"IHE_XDM/SUBSET01/BOMB.XML": b"\0" * (25 * 1024 * 1024)},
    ],
    ids=["path-traversal", "thousands-of-entries", "zip-bomb"],
)
def test_hostile_zips_are_refused_and_the_server_keeps_serving(mss, evidence, extra):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(mss, mail([PRO], zipped=xdm_zip(cda(), extra)))
    assert refused.value.smtp_code == 554
    assert events(evidence, "mss.message_received")[-1].data["accepted"] is False
    assert send(mss, mail([PRO])) == {}


def test_garbage_message_is_refused_with_5xx(mss):
    with smtplib.SMTP(mss.host, mss.port, timeout=10) as client:
        code, _ = (
            client.data(b"\x00\xff not a mail")
            if client.ehlo() and client.mail(SENDER) and client.rcpt(PRO)
            else (0, b"")
        )
    assert code == 554


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(FaultMode.REFUSE, 554), (FaultMode.ERROR_5XX, 451)],
)
def test_fault_refuse_and_transient(evidence, mode, expected):
    faults = FaultPlan()
    faults.inject(Fault(mode=mode))
    with MssSimulator(evidence=evidence, faults=faults) as sim:
        with pytest.raises(smtplib.SMTPDataError) as error:
            send(sim, mail([PRO]))
        assert error.value.smtp_code == expected
        assert send(sim, mail([PRO])) == {}  # times=1: the next mail goes through


def test_fault_timeout_makes_the_client_time_out(evidence):
    faults = FaultPlan()
    faults.inject(Fault(mode=FaultMode.TIMEOUT, delay_s=3.0))
    with MssSimulator(evidence=evidence, faults=faults) as sim:
        with pytest.raises((TimeoutError, smtplib.SMTPServerDisconnected)):
            send(sim, mail([PRO]), timeout=0.5)
        assert [e.data["mode"] for e in events(evidence, "mss.fault_injected")] == ["timeout"]


def test_fault_slow_answer_still_delivers(evidence):
    faults = FaultPlan()
    faults.inject(Fault(mode=FaultMode.SLOW, delay_s=0.2))
    with MssSimulator(evidence=evidence, faults=faults) as sim:
        assert send(sim, mail([PRO])) == {}
        assert [e.data["mode"] for e in events(evidence, "mss.fault_injected")] == ["slow"]
        assert events(evidence, "mss.message_received")[-1].data["accepted"] is True


def test_fault_malformed_reply(evidence):
    faults = FaultPlan()
    faults.inject(Fault(mode=FaultMode.MALFORMED))
    with MssSimulator(evidence=evidence, faults=faults) as sim:
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPResponseException)) as error:
            send(sim, mail([PRO]))
        assert error.value.smtp_code == -1  # smtplib could not read a reply code


def test_fault_drop_closes_the_connection(evidence):
    faults = FaultPlan()
    faults.inject(Fault(mode=FaultMode.DROP))
    with MssSimulator(evidence=evidence, faults=faults) as sim:
        with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
            send(sim, mail([PRO]))
        assert send(sim, mail([PRO])) == {}


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=6000))
def test_corrupted_mail_is_refused_or_checked_never_crashes(noise, where):
    """Whatever bytes arrive in DATA, the receiver answers with a 5xx reply or an MDN code, nothing else."""
    raw = bytearray(mail([PRO]).as_bytes())
    position = where % len(raw)
    raw[position : position + len(noise)] = noise
    try:
        result = analyse(bytes(raw), [PRO])
    except MessageRefused as refused:
        assert refused.reply.startswith("554 ")
    else:
        assert result.error_code is None or 900 <= result.error_code <= 906


def test_rfc3461_dsn_parameters_are_accepted(evidence):
    """A DCC that asks for delivery notifications (RET, ENVID, NOTIFY, ORCPT) is served, and DSN is advertised."""
    with MssSimulator(evidence=evidence, faults=FaultPlan(), always_dsn=False) as sim:
        with smtplib.SMTP(sim.host, sim.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("dsn")
            client.send_message(
                mail([PRO]),
                SENDER,
                [PRO],
                mail_options=["RET=HDRS", "ENVID=abc"],
                rcpt_options=["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{PRO}"],
            )
        assert sim.outbox[-1].get_param("report-type") == "delivery-status"
        with smtplib.SMTP(sim.host, sim.port, timeout=10) as client:
            client.send_message(mail([PRO]), SENDER, [PRO], rcpt_options=["NOTIFY=NEVER"])
        assert len(sim.outbox) == 1  # NOTIFY=NEVER and always_dsn false: no DSN


def test_in_process_delivery_takes_the_same_path(evidence):
    sim = MssSimulator(evidence=evidence, faults=FaultPlan())  # not started: no socket
    raw = mail([PRO], mdn=True, subject="no XDM prefix").as_bytes()
    assert sim.deliver(raw, SENDER, [PRO]).startswith("250 ")
    assert str(sim.outbox[-1]["Subject"]).startswith("[KO Intégration système !][900]")
    assert sim.deliver(raw, SENDER, ["x@gmail.com"]).startswith("550 ")
    hostile = mail([PRO], zipped=xdm_zip(cda(), {"../x": b"1"})).as_bytes()
    assert sim.deliver(hostile, SENDER, [PRO]).startswith("554 ")


def test_same_message_twice_is_flagged_duplicate(mss, evidence):
    message = mail([PRO])
    send(mss, message)
    send(mss, message)
    assert [e.data["duplicate"] for e in events(evidence, "mss.message_received")] == [False, True]


def test_subject_must_name_the_patient_of_the_cda(mss, evidence):
    named = cda().replace(
        b"</patientRole>",
        b'<patient><name><family qualifier="BR">DUPONT</family><given>Marie</given></name>'
        b'<birthTime value="19790315"/></patient></patientRole>',
    )
    send(mss, mail([PRO], zipped=xdm_zip(named), subject="XDM/1.0/DDM+Fiche RCP DUPONT Marie 15/03/1979"))
    send(mss, mail([PRO], zipped=xdm_zip(named), subject="XDM/1.0/DDM+Fiche RCP MARTIN Paul 01/01/1950"))
    assert [e.data["subject_matches_patient"] for e in events(evidence, "mss.message_received")] == [
        True,
        False,
    ]
