"""DMP (Mon espace santé) as an XDS.b document source (2.3.4, NATIONAL-SERVICES §2): ITI-41 provide and register
over SOAP 1.2 with MTOM/XOP, ITI-18 stored queries (FindDocuments, GetDocuments), ITI-43 retrieve.

Feeding rules (2.3.4.2), applied when a DMP job is delivered:

- an FRCP is submitted invisible to the patient (confidentialityCode ``INVISIBLE_PATIENT``) while its PPS is not in
  the DMP;
- a PPS is submitted visible; once it is in, its FRCP is made visible — by *replacement* (a new entry with an RPLC
  association: the platform cannot update metadata) when it was there invisible, or submitted visible when absent;
- a new version replaces the previous one (RPLC, same setId);
- the patient's opposition, or an identity no longer qualifiée, stops the submission (permanent failure).

What this DCC submitted is kept in ``dmp_entry`` (RPLC targets, visibility). Consultation before creating or
updating a document (2.3.4.1) reads the DMP when the patient consents and keeps the documents locally
(``dmp_cached_document``); without consent the local copy is used and the DMP is not queried.
"""

from __future__ import annotations

import base64
import email
import email.policy
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import events, faults, identifiers
from dcc.db.models import Document, Patient, Transmission
from dcc.db.models_transmissions import DmpCachedDocument, DmpEntry
from dcc.tls import client_context
from dcc.transmissions import outbox, routing
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.errors import DeliveryError
from dcc.transmissions.packaging import (
    CLASS_CODES,
    FORMAT_CODES,
    PDF_FORMAT_CODE,
    TYPE_CODES,
    DocumentPackager,
)

SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS = {
    "soap": SOAP,
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "xds": "urn:ihe:iti:xds-b:2007",
    "xop": "http://www.w3.org/2004/08/xop/include",
}
SCHEME = {
    "type_code": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "class_code": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "format_code": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "confidentiality": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "unique_id": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
    "patient_id": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
}
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
# Ségur documents whose data an FRCP or PPS is offered (REPR.08: médecin traitant, comorbidités, antécédents):
# the VSM (volet de synthèse médicale, LOINC 60591-5)
SEGUR_TYPE_CODES = frozenset({"60591-5"})
TRANSIENT_CODES = {"XDSRegistryBusy", "XDSRepositoryBusy", "XDSRegistryOutOfResources"}
ALREADY_THERE = "XDSDuplicateUniqueIdInRegistry"
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)

FAULT_FRCP_VISIBLE = faults.register(
    "frcp_visible_before_pps",
    "a validated FRCP is submitted to the DMP visible to the patient although its PPS is not there",
    # ALIM.04.01 too: its first step (the FRCP filed invisible) fails, so nothing is made visible by RPLC
    breaks=["DMP/ALIM.02", "DMP/ALIM.04"],
)
FAULT_NO_RPLC = faults.register(
    "dmp_new_version_without_rplc",
    "a new version (or a visibility change) is submitted as a new document instead of replacing the previous one",
    breaks=["DMP/ALIM.04", "DMP/ALIM.06"],
)


FAULT_FORMAT_CODE = faults.register(
    "dmp_frcp_wrong_format_code",
    "the FRCP is submitted to the DMP with the PPS's formatCode",
    breaks=["DMP/ALIM.09"],
)
FAULT_N1_TO_DMP = faults.register(
    "dmp_fed_with_n1",
    "the DMP receives the CDA R2 N1 (the PDF in a nonXMLBody, formatCode XDS-SD) instead of the volet's CDA R2 N3",
    # ALIM.09: the formatCode is no longer the volet's; BDT.03: the N1 carries the PDF alone, not the attachments
    breaks=["DMP/ALIM.01", "DMP/ALIM.09", "BDT.03"],
)
FAULT_PPS_INVISIBLE = faults.register(
    "dmp_pps_invisible",
    "the PPS is submitted to the DMP invisible to the patient",
    breaks=["DMP/ALIM.03"],
)
FAULT_ABSENT_FRCP = faults.register(
    "dmp_absent_frcp_not_filed_with_pps",
    "when the PPS reaches the DMP and its FRCP is absent, the FRCP is not filed visible",
    breaks=["DMP/ALIM.05"],
)


class DmpError(DeliveryError):
    def __init__(
        self, message: str, transient: bool = False, codes: tuple[str, ...] = (), in_doubt: bool = False
    ) -> None:
        super().__init__(message, transient, in_doubt)
        self.codes = codes


@dataclass(frozen=True)
class RegistryEntry:
    entry_uuid: str
    unique_id: str
    patient_id: str
    type_code: str | None
    status: str | None
    mime_type: str | None
    confidentiality: tuple[str, ...]


@dataclass(frozen=True)
class Submission:
    entry_uuid: str
    unique_id: str
    patient_id: str  # INS^^^&OID&ISO
    kind: str
    content: bytes
    invisible: bool
    replaces_entry_uuid: str | None
    format_code: str | None = None  # the CDA's formatCode; None: the volet's (FORMAT_CODES[kind])


def _el(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    prefix, _, name = tag.partition(":")
    return etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", **attrs)


def _envelope(body: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(envelope, f"{{{SOAP}}}Header")
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def provide_request(submissions: list[Submission]) -> tuple[bytes, dict[str, bytes]]:
    """The ITI-41 SOAP root part and its MTOM attachments (by Content-ID)."""
    request = etree.Element(f"{{{NS['xds']}}}ProvideAndRegisterDocumentSetRequest", nsmap=NS)
    objects = _el(_el(request, "lcm:SubmitObjectsRequest"), "rim:RegistryObjectList")
    package = _el(objects, "rim:RegistryPackage", id="urn:uuid:" + str(uuid.uuid4()))
    _el(
        package,
        "rim:ExternalIdentifier",
        identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
        value=f"2.25.{uuid.uuid4().int}",
        registryObject=package.get("id"),
    )
    parts: dict[str, bytes] = {}
    for sub in submissions:
        extrinsic = _el(
            objects,
            "rim:ExtrinsicObject",
            id=sub.entry_uuid,
            mimeType="text/xml",
            objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1",
        )
        codes = [
            ("type_code", TYPE_CODES[sub.kind]),
            ("class_code", CLASS_CODES[sub.kind]),
            (
                "format_code",
                sub.format_code or FORMAT_CODES["PPS" if faults.active(FAULT_FORMAT_CODE.name) else sub.kind],
            ),
            ("confidentiality", "N"),
        ]
        if sub.invisible:
            codes.append(("confidentiality", INVISIBLE_PATIENT))
        for scheme, code in codes:
            _el(
                extrinsic,
                "rim:Classification",
                classificationScheme=SCHEME[scheme],
                classifiedObject=sub.entry_uuid,
                nodeRepresentation=code,
                id=f"urn:uuid:{uuid.uuid4()}",
            )
        for scheme, value in (("unique_id", sub.unique_id), ("patient_id", sub.patient_id)):
            _el(
                extrinsic,
                "rim:ExternalIdentifier",
                identificationScheme=SCHEME[scheme],
                value=value,
                registryObject=sub.entry_uuid,
                id=f"urn:uuid:{uuid.uuid4()}",
            )
        if sub.replaces_entry_uuid:
            _el(
                objects,
                "rim:Association",
                associationType=RPLC,
                sourceObject=sub.entry_uuid,
                targetObject=sub.replaces_entry_uuid,
                id=f"urn:uuid:{uuid.uuid4()}",
            )
    for sub in submissions:
        cid = f"{uuid.uuid4().hex}@dcc"
        parts[cid] = sub.content
        _el(_el(request, "xds:Document", id=sub.entry_uuid), "xop:Include", href=f"cid:{cid}")
    return _envelope(request), parts


def mtom(root_xml: bytes, parts: dict[str, bytes]) -> tuple[str, bytes]:
    boundary = "MIMEBoundary_" + secrets.token_hex(12)
    root_id = f"root.{uuid.uuid4().hex}@dcc"
    chunks = [
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n".encode(),
        root_xml,
        b"\r\n",
    ]
    for cid, content in parts.items():
        chunks += [
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{cid}>\r\n\r\n".encode(),
            content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; start="<{root_id}>"; '
        'start-info="application/soap+xml"'
    )
    return content_type, b"".join(chunks)


def _split_mtom(content_type: str, body: bytes) -> tuple[bytes, dict[str, bytes]]:
    if not content_type.lower().startswith("multipart/related"):
        return body, {}
    message = email.message_from_bytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body, policy=email.policy.default
    )
    parts = list(message.iter_parts()) if message.is_multipart() else []
    if not parts:
        raise DmpError("MTOM answer without parts", transient=True)
    start = (message.get_param("start") or "").strip("<>")
    root = next((p for p in parts if (p.get("Content-ID") or "").strip("<>") == start), parts[0])
    attachments = {
        (p.get("Content-ID") or "").strip("<>"): p.get_payload(decode=True) or b""
        for p in parts
        if p is not root
    }
    return root.get_payload(decode=True) or b"", attachments


class DmpClient:
    def __init__(
        self, url: str, token: str, timeout_s: float = 30.0, client: httpx.Client | None = None
    ) -> None:
        self.url, self.token, self.timeout_s = url, token, timeout_s
        self._client = client

    def _post(self, content_type: str, body: bytes) -> tuple[etree._Element, dict[str, bytes]]:
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.token}"}
        try:
            if self._client is not None:
                answer = self._client.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
            else:
                answer = httpx.post(
                    self.url, content=body, headers=headers, timeout=self.timeout_s, verify=client_context()
                )
        except httpx.HTTPError as error:
            # not connected: the DMP never saw the request; otherwise (read timeout, dropped answer) it may have
            # registered it, and the worker asks before resending
            unsent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise DmpError(
                f"DMP {type(error).__name__}: {error}", transient=True, in_doubt=not unsent
            ) from None
        if len(answer.content) > MAX_RESPONSE_BYTES:
            raise DmpError(f"DMP answer larger than {MAX_RESPONSE_BYTES} bytes", transient=True)
        try:
            xml, parts = _split_mtom(answer.headers.get("content-type", ""), answer.content)
            root = etree.fromstring(xml, PARSER)
        except etree.XMLSyntaxError as error:
            raise DmpError(
                f"DMP HTTP {answer.status_code}: unreadable answer ({error})", transient=True
            ) from None
        fault = root.find("soap:Body/soap:Fault", NS)
        if fault is not None or answer.status_code >= 400:
            reason = root.findtext(".//soap:Reason/soap:Text", default="", namespaces=NS)
            transient = answer.status_code >= 500 or answer.status_code in (401, 429)
            raise DmpError(f"DMP HTTP {answer.status_code}: {reason}".strip(), transient=transient)
        return root, parts

    @staticmethod
    def _check(response: etree._Element | None) -> None:
        if response is None:
            raise DmpError("DMP answer without RegistryResponse", transient=True)
        if response.get("status") == SUCCESS:
            return
        errors = [
            (e.get("errorCode", ""), e.get("codeContext", ""))
            for e in response.iter(f"{{{NS['rs']}}}RegistryError")
        ]
        codes = tuple(code for code, _ in errors)
        text = "; ".join(f"{code}: {context}" for code, context in errors) or "Failure without RegistryError"
        raise DmpError(
            f"DMP refused: {text}", transient=bool(codes) and set(codes) <= TRANSIENT_CODES, codes=codes
        )

    def provide(self, submissions: list[Submission]) -> None:
        root_xml, parts = provide_request(submissions)
        content_type, body = mtom(root_xml, parts)
        root, _ = self._post(content_type, body)
        self._check(root.find("soap:Body/rs:RegistryResponse", NS))

    def _query(self, query_id: str, slots: dict[str, list[str]]) -> list[RegistryEntry]:
        request = etree.Element(f"{{{NS['query']}}}AdhocQueryRequest", nsmap=NS)
        _el(request, "query:ResponseOption", returnType="LeafClass", returnComposedObjects="true")
        query = _el(request, "rim:AdhocQuery", id=query_id)
        for name, values in slots.items():
            holder = _el(_el(query, "rim:Slot", name=name), "rim:ValueList")
            for value in values:
                _el(holder, "rim:Value").text = value
        root, _ = self._post("application/soap+xml; charset=utf-8", _envelope(request))
        response = root.find("soap:Body/query:AdhocQueryResponse", NS)
        if response is None:
            self._check(root.find("soap:Body/rs:RegistryResponse", NS))
            raise DmpError("DMP answer without AdhocQueryResponse", transient=True)
        self._check(response)
        found = []
        for extrinsic in response.iter(f"{{{NS['rim']}}}ExtrinsicObject"):

            def ident(scheme: str, el: etree._Element = extrinsic) -> str:
                for ext in el.findall("rim:ExternalIdentifier", NS):
                    if ext.get("identificationScheme") == SCHEME[scheme]:
                        return ext.get("value", "")
                return ""

            def codes(scheme: str, el: etree._Element = extrinsic) -> list[str]:
                return [
                    c.get("nodeRepresentation", "")
                    for c in el.findall("rim:Classification", NS)
                    if c.get("classificationScheme") == SCHEME[scheme]
                ]

            found.append(
                RegistryEntry(
                    entry_uuid=extrinsic.get("id", ""),
                    unique_id=ident("unique_id"),
                    patient_id=ident("patient_id"),
                    type_code=(codes("type_code") or [None])[0],
                    status=(extrinsic.get("status") or "").rpartition(":")[2] or None,
                    mime_type=extrinsic.get("mimeType"),
                    confidentiality=tuple(codes("confidentiality")),
                )
            )
        return found

    def find_documents(self, patient_id: str) -> list[RegistryEntry]:
        return self._query(
            FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": [f"'{patient_id}'"],
                "$XDSDocumentEntryStatus": [f"('{APPROVED}')"],
            },
        )

    def get_documents(self, unique_ids: list[str]) -> list[RegistryEntry]:
        return self._query(GET_DOCUMENTS, {"$XDSDocumentEntryUniqueId": [f"('{u}')" for u in unique_ids]})

    def retrieve(self, unique_ids: list[str], repository_id: str = "") -> dict[str, bytes]:
        request = etree.Element(f"{{{NS['xds']}}}RetrieveDocumentSetRequest", nsmap=NS)
        for unique_id in unique_ids:
            item = _el(request, "xds:DocumentRequest")
            _el(item, "xds:RepositoryUniqueId").text = repository_id
            _el(item, "xds:DocumentUniqueId").text = unique_id
        root, parts = self._post("application/soap+xml; charset=utf-8", _envelope(request))
        documents = {}
        for response in root.iter(f"{{{NS['xds']}}}DocumentResponse"):
            unique_id = response.findtext("xds:DocumentUniqueId", default="", namespaces=NS)
            include = response.find("xds:Document/xop:Include", NS)
            if include is not None:
                documents[unique_id] = parts.get(include.get("href", "").removeprefix("cid:"), b"")
            else:
                documents[unique_id] = base64.b64decode(
                    response.findtext("xds:Document", default="", namespaces=NS)
                )
        return documents


def patient_xds_id(patient: Patient) -> str:
    return f"{patient.ins_matricule}^^^&{patient.ins_oid}&ISO"


def _entry_uuid(unique_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'dcc-dmp:' + unique_id)}"


def _approved(session: Session, **where: Any) -> list[DmpEntry]:
    query = select(DmpEntry).where(DmpEntry.state == "approved")
    for name, value in where.items():
        query = query.where(getattr(DmpEntry, name) == value)
    return list(session.scalars(query.order_by(DmpEntry.id)))


def pps_of_frcp_in_dmp(session: Session, frcp: Document) -> bool:
    pps_ids = select(Document.id).where(Document.kind == "PPS", Document.frcp_id == frcp.id)
    return bool(
        session.scalar(
            select(DmpEntry.id)
            .where(DmpEntry.state == "approved", DmpEntry.document_id.in_(pps_ids))
            .limit(1)
        )
    )


@dataclass
class DmpChannel:
    config: TransmissionConfig
    packager: DocumentPackager
    token: Callable[[Transmission], str] | None = None
    http: httpx.Client | None = None

    def client(self, job: Transmission) -> DmpClient:
        token = self.token(job) if self.token else self.config.dmp_token
        if not token or not self.config.dmp_url:
            raise DmpError("no DMP endpoint or access token (DCC_DMP_URL, DCC_DMP_TOKEN)", transient=False)
        return DmpClient(self.config.dmp_url, token, self.config.http_timeout_s, self.http)

    def prepare(self, session: Session, job: Transmission) -> Any:
        document = session.get(Document, job.document_id)
        patient = session.get(Patient, document.patient_id)
        choice = outbox.dmp_choice(session, patient)
        # the fault dmp_opposition_ignored skips this check as it skips the routing's
        ignored = (
            faults.active(routing.FAULT_OPPOSITION_IGNORED.name) if choice and choice.opposition else False
        )
        if choice is not None and choice.opposition and not ignored:
            raise DmpError("the patient opposed feeding the DMP", transient=False)
        if patient.identity_status != routing.QUALIFIEE or not patient.ins_matricule:
            raise DmpError(
                f"identity « {patient.identity_status} »: the DMP needs a qualified INS", transient=False
            )
        options = dict(job.options or {})
        unique_id = job.external_id or identifiers.document_id(document)
        if "invisible" not in options:
            invisible = False
            if document.kind == "FRCP" and not options.get("visible"):
                invisible = not pps_of_frcp_in_dmp(session, document) and not faults.active(
                    FAULT_FRCP_VISIBLE.name
                )
            elif document.kind == "PPS" and faults.active(FAULT_PPS_INVISIBLE.name):
                invisible = True
            replaced = options.get("replaces_unique_id")
            if replaced is None and document.replaces_id is not None:
                previous = _approved(session, set_id=identifiers.set_id(document))
                replaced = previous[-1].unique_id if previous else None
            if faults.active(FAULT_NO_RPLC.name):
                replaced = None
            options.update(
                invisible=invisible, replaces_unique_id=replaced, entry_uuid=_entry_uuid(unique_id)
            )
            job.options = options  # committed with the in-flight mark: a recovery books the same facts
        target = None
        if options.get("replaces_unique_id"):
            old = session.scalar(select(DmpEntry).where(DmpEntry.unique_id == options["replaces_unique_id"]))
            target = old.entry_uuid if old else None
        own_id = identifiers.document_id(document)
        n1 = faults.active(FAULT_N1_TO_DMP.name)
        files = self.packager.package(
            session,
            document,
            "n1" if n1 else job.format,
            document_id=None if unique_id == own_id else unique_id,
        )
        cda = next((f for f in files if f.mime == "text/xml"), None)
        if cda is None:
            raise DmpError(f"no CDA in format {job.format}", transient=False)
        submission = Submission(
            options["entry_uuid"],
            unique_id,
            patient_xds_id(patient),
            document.kind,
            cda.content,
            bool(options["invisible"]),
            target,
            PDF_FORMAT_CODE if n1 else None,
        )
        return self.client(job), submission

    def send(self, prepared: Any) -> str | None:
        client, submission = prepared
        try:
            client.provide([submission])
        except DmpError as error:
            if ALREADY_THERE in error.codes:
                return "already registered"  # the same uniqueId arrived before (a crash or a lost answer)
            raise
        return None

    def delivered(self, session: Session, job: Transmission) -> bool | None:
        return bool(self.client(job).get_documents([job.external_id or ""]))

    def after_success(self, session: Session, job: Transmission, prepared: Any) -> None:
        document = session.get(Document, job.document_id)
        patient = session.get(Patient, document.patient_id)
        options = dict(job.options or {})
        unique_id = job.external_id or identifiers.document_id(document)
        if session.scalar(select(DmpEntry.id).where(DmpEntry.unique_id == unique_id)) is None:
            session.add(
                DmpEntry(
                    document_id=document.id,
                    transmission_id=job.id,
                    entry_uuid=options.get("entry_uuid") or _entry_uuid(unique_id),
                    unique_id=unique_id,
                    patient_ins=patient.ins_matricule or "",
                    kind=document.kind,
                    set_id=identifiers.set_id(document),
                    invisible_patient=bool(options.get("invisible")),
                    state="approved",
                    replaces_unique_id=options.get("replaces_unique_id"),
                    at=datetime.now(UTC),
                )
            )
        if options.get("replaces_unique_id"):
            for old in _approved(session, unique_id=options["replaces_unique_id"]):
                old.state = "deprecated"
        session.flush()
        if document.kind == "PPS" and document.frcp_id is not None:
            self._make_frcp_visible(session, session.get(Document, document.frcp_id), patient)

    def _make_frcp_visible(self, session: Session, frcp: Document, patient: Patient) -> None:
        """2.3.4.2: once the PPS is in the DMP, its FRCP is visible — replaced when invisible, submitted when
        absent, left alone when already visible (or still on its way: it will see the PPS and go visible)."""
        entries = _approved(session, document_id=frcp.id)
        if entries and not entries[-1].invisible_patient:
            return
        waiting = session.scalar(
            select(Transmission.id).where(
                Transmission.document_id == frcp.id,
                Transmission.channel == routing.DMP,
                Transmission.state == "pending",
            )
        )
        if not entries and (waiting is not None or faults.active(FAULT_ABSENT_FRCP.name)):
            return
        route = routing.Route(routing.DMP, patient.ins_matricule or "", routing.N3, "ins", "dmp")
        options = {"visible": True}
        if entries:
            options["replaces_unique_id"] = entries[-1].unique_id
        outbox.queue(
            session,
            frcp,
            route,
            self.config,
            trigger="pps_shared",
            trigger_kind="automatic",
            options=options,
            key_suffix="visible",
        )


def consult(
    session: Session, patient: Patient, client: DmpClient | None, author: str
) -> list[DmpCachedDocument]:
    """Consultation before creating or updating an FRCP or PPS (2.3.4.1): with consent, FindDocuments then
    retrieve the FRCP and PPS found, kept locally; without consent (or no DMP), the local copy, untouched."""
    choice = outbox.dmp_choice(session, patient)
    ins = patient.ins_matricule if patient.identity_status == routing.QUALIFIEE else None
    source = "dmp_cache"
    if ins and client is not None and (choice is None or choice.consent):
        try:
            entries = [
                e
                for e in client.find_documents(patient_xds_id(patient))
                if e.type_code in TYPE_CODES.values() or e.type_code in SEGUR_TYPE_CODES
            ]
            contents = client.retrieve([e.unique_id for e in entries]) if entries else {}
            now = datetime.now(UTC)
            for entry in entries:
                cached = session.scalar(
                    select(DmpCachedDocument).where(DmpCachedDocument.unique_id == entry.unique_id)
                )
                if cached is None:
                    cached = DmpCachedDocument(patient_ins=ins, unique_id=entry.unique_id, fetched_at=now)
                    session.add(cached)
                cached.type_code, cached.status, cached.mime_type = (
                    entry.type_code,
                    entry.status,
                    entry.mime_type,
                )
                cached.content, cached.fetched_at = contents.get(entry.unique_id), now
            source = "dmp"
        except DmpError as error:
            if "DMPConsentementRequis" in error.codes:
                outbox.record_dmp_choice(
                    session, patient, author, opposition=bool(choice and choice.opposition), consent=False
                )
            elif not error.transient:
                raise
    session.flush()
    cached = list(
        session.scalars(
            select(DmpCachedDocument)
            .where(DmpCachedDocument.patient_ins == (ins or ""))
            .order_by(DmpCachedDocument.id)
        )
    )
    events.emit(
        session,
        "dmp.consulted",
        patient_id=str(patient.id),
        ins=ins,
        source=source,
        documents=[c.unique_id for c in cached],
        author=author,
    )
    return cached
