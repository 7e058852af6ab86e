"""FRCP exchange between DCC (2.1.4), receiving side. Sending is ``outbox.send_to_peer`` (the FRCP « complétée »
becomes read-only here) and the return of a validated FRCP is the ``peer_dcc_return`` route of its validation.

A document mail delivered to this DCC's BAL applicative (``inbound.py``) is one of:

- the **return** of an FRCP this DCC sent: same setId, « validé », a higher version → it replaces the local copy
  (new local version, validated, read-only: the other DCC is now its custodian);
- an FRCP **sent by another DCC** for an RCP here: « complété » → the patient's identity is matched (INS when the
  CDA carries one, else the traits) and a local working copy is created, version + 1, to be completed, validated
  and returned to the sender (``validate_and_route(..., peer_dcc=return_recipients(doc))``).

Anything that cannot be integrated is refused with an error MDN (codes 900–906 of the MSS guide) sent back to the
sender, and reported (``document.integration_refused``). The mail, its zip and the CDA are untrusted: bounded
reads, no entities, no network, errors naming the entry or the XPath.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import io
import smtplib
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, identifiers, rgpd
from dcc.db.models import Document, Patient
from dcc.db.models_transmissions import InboundMessage
from dcc.services import documents, patients
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.routing import Recipient

NS = {"cda": "urn:hl7-org:v3"}
INS_OIDS = frozenset(
    {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
)
STATUS_SECTION = "1.2.250.1.213.1.1.2.35"
STATUS_CODES = {"385651009": "en_cours", "398166005": "complete", "9571008": "valide", "29179001": "cloture"}
FRCP_CODE = "34794-8"
MAX_ENTRIES, MAX_ENTRY_BYTES = 64, 20 * 1024 * 1024
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
ERROR_TEXT = {
    "900": "Version non supportée",
    "902": "Patient inconnu",
    "903": "Absence d'INS",
    "904": "INS non concordante",
    "905": "INS incomplète",
    "906": "Autre erreur",
}


FAULT_MDN_CODE = faults.register(
    "exchange_error_mdn_generic_code",
    "an FRCP that cannot be integrated is answered by an error MDN with the generic code 906 whatever the cause",
    breaks=["ECH.05"],
)
FAULT_CUSTODIAN = faults.register(
    "peer_return_keeps_local_custodian",
    "the validated FRCP returned by the other DCC replaces the local one but keeps this DCC as its custodian",
    breaks=["ECH.03"],
)
FAULT_VERSION_KEPT = faults.register(
    "received_frcp_version_kept",
    "an FRCP received from another DCC is integrated, validated and returned under the version it came with",
    breaks=["ECH.04"],
)


class Refused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Header:
    document_id: str
    set_id: str
    version: int
    type_code: str | None
    status: str | None
    ins: str | None
    custodian: str | None
    family: str | None
    given: str | None
    sex: str | None
    birth: str | None  # YYYY-MM-DD
    author_rpps: str | None = None  # the author's RPPS (its national id 8+RPPS), kept by the integrated copy
    rcp: dict[str, str] | None = None  # the RCP the FRCP is for (encompassingEncounter ids), kept likewise


def _ii(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    root, ext = element.get("root"), element.get("extension")
    return f"{root}^{ext}" if ext else root


def read_header(content: bytes) -> Header:
    try:
        doc = etree.fromstring(content, PARSER)
    except etree.XMLSyntaxError as error:
        raise Refused("906", f"/: not well-formed XML ({error})") from None
    if doc.tag != "{urn:hl7-org:v3}ClinicalDocument":
        raise Refused("906", f"/: {doc.tag!r} is not cda:ClinicalDocument")
    version = doc.xpath("string(cda:versionNumber/@value)", namespaces=NS)
    if not version.isdigit():
        raise Refused("906", f"/ClinicalDocument/versionNumber/@value: {version!r} is not a version number")
    document_id, set_id = _ii(doc.find("cda:id", NS)), _ii(doc.find("cda:setId", NS))
    if not document_id or not set_id:
        raise Refused("906", "/ClinicalDocument/id, setId: required")
    ins = None
    for ident in doc.xpath("cda:recordTarget/cda:patientRole/cda:id", namespaces=NS):
        if ident.get("root") in INS_OIDS:
            ins = ident.get("extension") or ""
    person = "cda:recordTarget/cda:patientRole/cda:patient"
    birth = doc.xpath(f"string({person}/cda:birthTime/@value)", namespaces=NS)
    status = doc.xpath(
        f"string(cda:component/cda:structuredBody/cda:component/cda:section[cda:templateId/@root='{STATUS_SECTION}']"
        "/cda:entry/cda:observation/cda:value/@code)",
        namespaces=NS,
    )
    return Header(
        document_id=document_id,
        set_id=set_id,
        version=int(version),
        type_code=doc.xpath("string(cda:code/@code)", namespaces=NS) or None,
        status=STATUS_CODES.get(status),
        ins=ins,
        custodian=_ii(
            doc.find("cda:custodian/cda:assignedCustodian/cda:representedCustodianOrganization/cda:id", NS)
        ),
        family=(
            doc.xpath(f"string({person}/cda:name/cda:family[@qualifier='BR'])", namespaces=NS)
            or doc.xpath(f"string({person}/cda:name/cda:family)", namespaces=NS)
        ).strip()
        or None,
        given=(
            doc.xpath(f"string({person}/cda:name/cda:given[@qualifier='BR'])", namespaces=NS)
            or doc.xpath(f"string({person}/cda:name/cda:given)", namespaces=NS)
        ).strip()
        or None,
        sex={"M": "M", "F": "F"}.get(
            doc.xpath(f"string({person}/cda:administrativeGenderCode/@code)", namespaces=NS)
        ),
        birth=f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}" if len(birth) >= 8 else None,
        author_rpps=_author_rpps(doc),
        rcp=_rcp(doc),
    )


RCP_ID_ROOTS = {
    "1.2.250.1.161.1.20.1.1": "rrc_id",
    "1.2.250.1.161.1.20.2.1": "gestionnaire_id",
    "1.2.250.1.161.1.20.3.1": "rcp_id",
}


def _rcp(doc: etree._Element) -> dict[str, str] | None:
    """The RCP's national ids (RRC, RCP manager, RCP) from ``componentOf/encompassingEncounter/id``."""
    found = {
        RCP_ID_ROOTS[ident.get("root")]: ident.get("extension") or ""
        for ident in doc.xpath("cda:componentOf/cda:encompassingEncounter/cda:id", namespaces=NS)
        if ident.get("root") in RCP_ID_ROOTS
    }
    return found or None


def _author_rpps(doc: etree._Element) -> str | None:
    """The RPPS of the document's author (``author/assignedAuthor/id`` under the national PS id root, 8+RPPS)."""
    for ident in doc.xpath("cda:author/cda:assignedAuthor/cda:id", namespaces=NS):
        extension = ident.get("extension") or ""
        if ident.get("root") == "1.2.250.1.71.4.2.1" and extension.startswith("8") and len(extension) == 12:
            return extension[1:]
    return None


def cda_documents(message: EmailMessage) -> list[bytes]:
    """The CDA files of the mail's IHE_XDM.zip, read within bounds."""
    for part in message.walk():
        if (
            part.get_filename() or ""
        ).upper() == "IHE_XDM.ZIP" or part.get_content_type() == "application/zip":
            data = part.get_payload(decode=True) or b""
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile as error:
                raise Refused("906", f"IHE_XDM.zip: not a zip ({error})") from None
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise Refused("906", f"IHE_XDM.zip: {len(infos)} entries")
            found = []
            for info in infos:
                name = info.filename
                if name.startswith("/") or ".." in name.split("/"):
                    raise Refused("906", f"zip entry {name!r}: unsafe path")
                if not name.upper().startswith("IHE_XDM/") or not name.upper().endswith(".XML"):
                    continue
                if name.upper().endswith("METADATA.XML"):
                    continue
                with archive.open(info) as handle:
                    content = handle.read(MAX_ENTRY_BYTES + 1)
                if len(content) > MAX_ENTRY_BYTES:
                    raise Refused("906", f"zip entry {name!r}: larger than {MAX_ENTRY_BYTES} bytes")
                found.append(content)
            if not found:
                raise Refused("906", "IHE_XDM.zip: no CDA document")
            return found
    raise Refused("906", "no IHE_XDM.zip attachment")


def receive_document(
    session: Session, raw: bytes, sender: str, config: TransmissionConfig | None = None
) -> None:
    """Integrates or refuses one document mail (called by the inbound SMTP, in its transaction)."""
    config = config or TransmissionConfig.from_environment()
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # hostile input
        return
    message_id = str(message.get("Message-ID") or "").strip() or f"<no-id.{uuid.uuid4().hex}@inbound>"
    if session.scalar(select(InboundMessage.id).where(InboundMessage.message_id == message_id)) is not None:
        return  # the same mail again: integrated (or refused) once
    reply_to = email.utils.parseaddr(
        str(message.get("Disposition-Notification-To") or message.get("From") or sender)
    )[1]
    try:
        header_ins = str(message.get("X-MSS-INS") or "").strip() or None
        cdas = cda_documents(message)
        headers = [read_header(content) for content in cdas]
        frcps = [h for h in headers if h.type_code == FRCP_CODE]
        if not frcps:
            raise Refused("906", "/ClinicalDocument/code/@code: no FRCP (LOINC 34794-8) in the mail")
        header = frcps[0]
        if header.ins is not None and len(header.ins) != 15:
            raise Refused("905", f"recordTarget INS {header.ins!r} is not 15 characters")
        if header_ins and header.ins and header_ins != header.ins:
            raise Refused("904", f"X-MSS-INS {header_ins!r} differs from the CDA INS {header.ins!r}")
        local = _local_set(session, header.set_id)
        if local is not None:
            document = _integrate_return(session, local, header, sender)
        else:
            document = _integrate_new(session, header, sender)
        session.add(
            InboundMessage(
                message_id=message_id,
                sender=sender,
                result="integrated",
                document_id=document.id,
                at=datetime.now(UTC),
            )
        )
        session.flush()
    except Refused as refused:
        session.add(
            InboundMessage(
                message_id=message_id,
                sender=sender,
                result="refused",
                code=refused.code,
                detail=str(refused),
                at=datetime.now(UTC),
            )
        )
        session.flush()
        events.emit(
            session,
            "document.integration_refused",
            kind="FRCP",
            code=refused.code,
            reason=str(refused),
            message_id=message_id,
            sender=sender,
        )
        _send_error_mdn(session, message, message_id, reply_to, refused, config)


def _local_set(session: Session, set_id: str) -> Document | None:
    """The latest local version of a set this DCC created (``identifiers.set_id`` is what its CDA carries: the
    UUID in upper case; stored as ``urn:uuid:`` + lower case. A UUID compares case-insensitively, RFC 4122)."""
    for candidate in (f"urn:uuid:{set_id.lower()}", f"urn:uuid:{set_id}", set_id):
        found = session.scalar(
            select(Document).where(Document.set_id == candidate).order_by(Document.version.desc()).limit(1)
        )
        if found is not None:
            return found
    return None


def _integrate_return(session: Session, local: Document, header: Header, sender: str) -> Document:
    if header.status != "valide":
        raise Refused(
            "906",
            f"section[templateId/@root='{STATUS_SECTION}']: statut {header.status!r}, a returned "
            "FRCP must be « validé »",
        )
    if header.version <= local.version:
        raise Refused(
            "900",
            f"/ClinicalDocument/versionNumber: {header.version} is not above the local "
            f"version {local.version}",
        )
    events.emit(
        session,
        "document.received",
        channel="mss",
        kind="FRCP",
        document_id=header.document_id,
        set_id=header.set_id,
        version=header.version,
        status=header.status,
        sender=sender,
    )
    # the other DCC is now responsible for keeping the FRCP (its custodian, as its CDA says)
    custodian = local.content.get("custodian") if faults.active(FAULT_CUSTODIAN.name) else header.custodian
    replacement = Document(
        kind="FRCP",
        patient_id=local.patient_id,
        set_id=local.set_id,
        version=header.version,
        status=documents.VALIDE,
        replaces_id=local.id,
        read_only_reason="peer_custodian",
        content={**local.content, "peer_document_id": header.document_id, "custodian": custodian},
        rgpd_text_1=local.rgpd_text_1,
        created_at=datetime.now(UTC),
        created_by=f"peer:{sender}",
        finess=local.finess,
        author_rpps=local.author_rpps,
    )
    session.add(replacement)
    session.flush()
    audit.record(
        session,
        f"peer:{sender}",
        "document.replaced_by_peer",
        "document",
        identifiers.document_id(local),
        {"version": local.version},
        {"version": header.version, "status": "valide", "custodian": custodian},
    )
    events.emit(
        session,
        "document.replaced_by_peer",
        document_id=identifiers.document_id(replacement),
        replaced_document_id=identifiers.document_id(local),
        set_id=identifiers.set_id(local),
        version=header.version,
        previous_version=local.version,
        status="valide",
        custodian=custodian,
        kind="FRCP",
        patient_id=str(local.patient_id),
    )
    return replacement


def _match_patient(session: Session, header: Header, sender: str) -> tuple[Patient, str]:
    if header.ins:
        found = session.scalar(
            select(Patient).where(Patient.ins_matricule == header.ins).order_by(Patient.id)
        )
        if found is not None:
            return found, "ins"
    if not (header.family and header.birth and header.sex):
        raise Refused(
            "902", "recordTarget/patientRole/patient: name, birthTime and gender are needed to match"
        )
    found = session.scalar(
        select(Patient)
        .where(
            Patient.nom_naissance == header.family.upper(),
            Patient.date_naissance == header.birth,
            Patient.sexe == header.sex,
        )
        .order_by(Patient.id)
    )
    if found is not None:
        return found, "traits"
    traits = patients.Traits(
        header.family, tuple((header.given or "").split()) or ("INCONNU",), header.sex, header.birth
    )
    return patients.create_patient(session, traits, f"peer:{sender}", mode="flux"), "created"


def _integrate_new(session: Session, header: Header, sender: str) -> Document:
    if header.status != "complete":
        raise Refused(
            "906",
            f"section[templateId/@root='{STATUS_SECTION}']: statut {header.status!r}, another DCC "
            "sends an FRCP « complétée » (2.1.4)",
        )
    patient, how = _match_patient(session, header, sender)
    events.emit(
        session,
        "document.received",
        channel="mss",
        kind="FRCP",
        document_id=header.document_id,
        set_id=header.set_id,
        version=header.version,
        status=header.status,
        sender=sender,
    )
    events.emit(
        session,
        "identity.matched",
        document_id=header.document_id,
        patient_id=str(patient.id),
        match=how,
        kept="local" if how != "created" else "received",
        local_status=patient.identity_status,
        received_status="qualifiee" if header.ins else "provisoire",
    )
    document = Document(
        kind="FRCP",
        patient_id=patient.id,
        set_id=header.set_id,
        version=header.version + (0 if faults.active(FAULT_VERSION_KEPT.name) else 1),
        status=documents.COMPLETE,
        content={
            "peer_document_id": header.document_id,
            "peer_return": sender,
            "custodian_before": header.custodian,
            **({"rcp": header.rcp} if header.rcp else {}),
        },
        rgpd_text_1=rgpd.texts(None)[0],
        created_at=datetime.now(UTC),
        created_by=f"peer:{sender}",
        author_rpps=header.author_rpps,
    )
    return documents._created(session, document, f"peer:{sender}", {"received_from": sender})


def return_recipients(document: Document) -> tuple[Recipient, ...]:
    """Where the validated FRCP goes back: the DCC that sent it (``peer_dcc`` of ``validate_and_route``)."""
    sender = document.content.get("peer_return")
    return (Recipient(sender, "exchange"),) if sender else ()


def _send_error_mdn(
    session: Session,
    original: EmailMessage,
    message_id: str,
    to: str,
    refused: Refused,
    config: TransmissionConfig,
) -> None:
    """``processed/error`` MDN (RFC 8098) with the MSS error code, from the null reverse-path."""
    boundary = "=_mdn_" + uuid.uuid4().hex
    code = "906" if faults.active(FAULT_MDN_CODE.name) else refused.code
    why = " ".join(str(refused).split())[:300]  # one short line: SMTP lines are bounded (RFC 5321 4.5.3.1.6)
    body = (
        f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"\r\n'
        "MIME-Version: 1.0\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Integration failed ({code} {ERROR_TEXT.get(code, '')}): {why}\r\n"
        f"--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Reporting-UA: {config.sender_domain}; dcc-recette reference DCC\r\nFinal-Recipient: rfc822; {config.sender}\r\n"
        f"Original-Message-ID: {message_id}\r\n"
        "Disposition: automatic-action/MDN-sent-automatically; processed/error\r\n"
        f"Error: {code} {ERROR_TEXT.get(code, '')}: {why}\r\n"
        f"--{boundary}--\r\n"
    )
    mdn = email.message_from_bytes(body.encode(), policy=email.policy.default)
    mdn["From"] = config.sender
    mdn["To"] = to
    mdn["Subject"] = f"[KO Intégration système !][{code}] {original.get('Subject', '')}"
    mdn["Date"] = email.utils.formatdate(usegmt=True)
    mdn["Message-ID"] = email.utils.make_msgid(domain=config.sender_domain)
    mdn["In-Reply-To"] = message_id
    delivered_to = "not sent (no DCC_MSS_SMTP)"
    if config.mss_smtp is not None and to:
        try:
            with smtplib.SMTP(*config.mss_smtp, timeout=config.smtp_timeout_s) as client:
                client.sendmail("", [to], mdn.as_bytes(policy=email.policy.SMTP))
            delivered_to = f"{config.mss_smtp[0]}:{config.mss_smtp[1]}"
        except (smtplib.SMTPException, OSError) as error:
            delivered_to = f"failed: {error}"
    events.emit(
        session,
        "mss.ack_sent",
        kind="mdn",
        code=code,
        original_message_id=message_id,
        message_id=message_id,
        to=to,
        delivered_to=delivered_to,
    )


def enter(session: Session, document: Document, field: str, value: str, author: str):
    """``documents.enter`` that also reports a refused modification of an exchanged FRCP (ECH.02): the
    ``document.modification_refused`` event is written in the session before the error is raised again, so the
    caller commits it (the refused change itself wrote nothing)."""
    try:
        return documents.enter(session, document, field, value, author)
    except documents.DocumentRuleError as error:
        events.emit(
            session,
            "document.modification_refused",
            document_id=identifiers.document_id(document),
            kind=document.kind,
            reason=error.reason,
            author=author,
            field=field,
        )
        raise
