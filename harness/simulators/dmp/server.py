"""The DMP simulator: the document-source side of Mon espace santé as IHE XDS.b over SOAP 1.2 with MTOM/XOP
(NATIONAL-SERVICES §2): ITI-41 provide and register, ITI-18 stored query (FindDocuments, GetDocuments), ITI-43
retrieve, deletion (RemoveObjects). It keeps each patient's documents with their metadata, applies RPLC
replacement, and refuses what the real DMP refuses with registry errors: unknown patient, an identifier that is not
a qualified INS, patient opposition, missing metadata, a uniqueId already held.

Access: a Bearer token is required — the PSC trust-space token (verified with the PSC simulator's key when one is
given as ``psc``) — and the acting professional (``SubjectNameID``) is recorded. The VIHF SAML assertion of the
real DMP is not modelled [U]. Error codes that the IHE profile does not name (opposition, non-qualified INS) are
this simulator's own [U].
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import Response
from lxml import etree

from harness.simulators import http_faults
from harness.simulators.base import HttpSimulator
from harness.simulators.dmp import mtom, xds
from harness.simulators.dmp.examples import example_provide_and_register  # noqa: F401 - the load benchmark uses it

PATH = "/dmp"
SOAP_TYPE = "application/soap+xml; charset=utf-8"
DEFAULT_PATIENTS = (
    {"ins": "279035121518989"},
    {"ins": "109076322083489"},
    {"ins": "209076322083439", "opposition": True},
    {"ins": "185027505612345", "consent": False},
)


class DmpSimulator(HttpSimulator):
    """Options: ``patients`` (list of {ins, opposition?, consent?}), ``psc`` (a PscSimulator whose tokens are
    verified; without it any Bearer JWT is read unverified), ``repository_id``."""

    name = "dmp"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        patients = options.pop("patients", DEFAULT_PATIENTS)
        self.patients = {
            str(p["ins"]): {"opposition": bool(p.get("opposition")), "consent": p.get("consent", True)}
            for p in patients
        }
        self.psc = options.pop("psc", None)
        self.repository_id = str(options.pop("repository_id", "1.2.250.1.213.1.1.9.99"))
        if options:
            raise ValueError(f"dmp: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(evidence=evidence, faults=faults, host=host, port=port)
        self.entries: list[xds.Entry] = []

    @property
    def endpoint_url(self) -> str:
        return self.base_url + PATH

    def build_app(self) -> FastAPI:
        return build_app(self)

    def actor(self, authorization: str) -> dict[str, Any] | None:
        if not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:]
        try:
            if self.psc is not None:
                return self.psc.verify(token)
            return jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None

    def add_patient(self, ins: str, opposition: bool = False, consent: bool = True) -> None:
        """A test patient of the DMP (a scenario « dépose dans le DMP de test » for its own patient, so that what
        other scenarios of the run filed for a shared INS does not change what this one sees)."""
        self.patients[str(ins)] = {"opposition": opposition, "consent": consent}

    def seed(
        self,
        ins: str,
        type_code: str,
        content: bytes,
        format_code: str = "",
        ins_oid: str = "1.2.250.1.213.1.4.10",
    ) -> xds.Entry:
        """A document already in the patient's DMP (filed by another system): no ITI-41 of the DCC, no event."""
        self.add_patient(ins, **{k: v for k, v in self.patients.get(ins, {}).items()})
        entry = xds.Entry(
            entry_id=f"urn:uuid:{uuid.uuid4()}",
            unique_id=f"1.2.250.1.999.9^{uuid.uuid4().hex}",
            patient_id=f"{ins}^^^&{ins_oid}&ISO",
            type_code=type_code,
            class_code="",
            format_code=format_code,
            confidentiality_codes=["N"],
            mime_type="text/xml",
            content=content,
        )
        self.entries.append(entry)
        return entry

    def approved(self, ins: str, type_code: str) -> list[xds.Entry]:
        return [
            e for e in self.entries if e.ins == ins and e.type_code == type_code and e.status == "Approved"
        ]

    # -- ITI-41 --------------------------------------------------------------------------------------------------
    def provide(self, root, attachments: dict[str, bytes], actor: dict[str, Any]) -> tuple[str, list[dict]]:
        try:
            entries, associations = xds.parse_provide_and_register(root, attachments)
        except xds.MetadataError as error:
            return xds.registry_response([(error.code, str(error))]), [
                {"result": "failure", "error_code": error.code}
            ]
        errors: list[tuple[str, str]] = []
        events = []
        replaced = {source: target for kind, source, target in associations if kind == xds.RPLC}
        for entry in entries:
            patient = self.patients.get(entry.ins)
            duplicate = any(e.unique_id == entry.unique_id for e in self.entries)
            if entry.ins_oid not in xds.INS_OIDS:
                errors.append(("DMPIdentifiantNonINSQualifie", f"{entry.patient_id}: not a qualified INS"))
            elif patient is None:
                errors.append(("XDSUnknownPatientId", f"{entry.ins}: unknown patient"))
            elif patient["opposition"]:
                errors.append(("DMPOppositionPatient", f"{entry.ins}: the patient opposed feeding the DMP"))
            elif duplicate:
                errors.append(("XDSDuplicateUniqueIdInRegistry", f"{entry.unique_id} already registered"))
            target = replaced.get(entry.entry_id)
            old = (
                next((e for e in self.entries if e.entry_id == target and e.status == "Approved"), None)
                if target
                else None
            )
            if target and old is None:
                errors.append(("XDSRegistryMetadataError", f"RPLC target {target} is not an approved entry"))
            events.append((entry, old, duplicate))
        if errors:
            return xds.registry_response(errors), [
                self._event(entry, old, duplicate, actor, "failure", errors[0][0])
                for entry, old, duplicate in events
            ]
        out = []
        for entry, old, duplicate in events:
            data = self._event(
                entry, old, duplicate, actor, "success", None
            )  # computed before this entry is stored
            if old is not None:
                old.status, entry.replaces = "Deprecated", old.unique_id
                data["replaces"] = old.unique_id
            entry.actor_rpps = data["actor_rpps"]
            self.entries.append(entry)
            out.append(data)
        return xds.registry_response(), out

    def _event(
        self,
        entry: xds.Entry,
        old,
        duplicate: bool,
        actor: dict[str, Any],
        result: str,
        error_code: str | None,
    ) -> dict[str, Any]:
        frcp = self.approved(entry.ins, "34794-8")
        latest_frcp = frcp[-1] if frcp else None
        return {
            "patient_id": entry.patient_id,
            "patient_ins": entry.ins,
            "unique_id": entry.unique_id,
            "set_id": entry.set_id,
            "type_code": entry.type_code,
            "class_code": entry.class_code,
            "format_code": entry.format_code,
            "confidentiality_codes": list(entry.confidentiality_codes),
            "invisible_patient": "INVISIBLE_PATIENT" in entry.confidentiality_codes,
            "replaces": old.unique_id if old is not None else None,
            "result": result,
            "error_code": error_code,
            "duplicate": duplicate,
            "document_status": entry.document_status,
            "ins_qualified": entry.ins_oid in xds.INS_OIDS,
            "attachments": entry.attachments,
            "pps_in_dmp": bool(self.approved(entry.ins, "18776-5")),
            "frcp_in_dmp": latest_frcp is not None,
            "frcp_invisible_in_dmp": bool(
                latest_frcp and "INVISIBLE_PATIENT" in latest_frcp.confidentiality_codes
            ),
            "frcp_set_id": latest_frcp.set_id if latest_frcp else None,
            "token_kind": actor.get("token_use", "psc_access"),
            "actor_rpps": str(actor.get("SubjectNameID", ""))[1:] or None,
        }

    # -- ITI-18 --------------------------------------------------------------------------------------------------
    def query(self, root) -> tuple[str, dict[str, Any]]:
        query = root.find("soap:Body/query:AdhocQueryRequest/rim:AdhocQuery", xds.NS)
        if query is None:
            return xds.registry_response([("XDSRegistryError", "no AdhocQuery")]), {"result": "failure"}
        slots = {
            s.get("name"): [v.text or "" for v in s.findall("rim:ValueList/rim:Value", xds.NS)]
            for s in query.findall("rim:Slot", xds.NS)
        }
        query_id = query.get("id", "")
        data: dict[str, Any] = {
            "query": {xds.FIND_DOCUMENTS: "FindDocuments", xds.GET_DOCUMENTS: "GetDocuments"}.get(
                query_id, query_id
            )
        }
        if query_id == xds.FIND_DOCUMENTS:
            patient = (slots.get("$XDSDocumentEntryPatientId") or [""])[0].strip("'")
            ins = patient.split("^", 1)[0]
            data["patient_ins"] = ins
            if ins in self.patients and not self.patients[ins]["consent"]:
                return (
                    xds.registry_response([("DMPConsentementRequis", f"{ins}: no consent to consult")]),
                    {**data, "result": "failure", "count": 0},
                )
            statuses = {
                s.strip("'() ").rsplit(":", 1)[-1]
                for v in slots.get("$XDSDocumentEntryStatus", [])
                for s in v.split(",")
            }
            found = [
                e for e in self.entries if e.patient_id == patient and (e.status in statuses or not statuses)
            ]
        elif query_id == xds.GET_DOCUMENTS:
            wanted = {
                v.strip("'() ")
                for vals in slots.get("$XDSDocumentEntryUniqueId", [])
                for v in vals.split(",")
            }
            found = [e for e in self.entries if e.unique_id in wanted]
        else:
            return xds.registry_response([("XDSUnknownStoredQuery", query_id)]), {**data, "result": "failure"}
        objects = "".join(xds.entry_xml(e) for e in found)
        body = (
            f'<query:AdhocQueryResponse xmlns:query="{xds.NS["query"]}" xmlns:rim="{xds.NS["rim"]}" '
            f'status="{xds.SUCCESS}"><rim:RegistryObjectList>{objects}</rim:RegistryObjectList></query:AdhocQueryResponse>'
        )
        return body, {**data, "result": "success", "count": len(found)}


def build_app(sim: DmpSimulator) -> FastAPI:
    app = FastAPI(title="DMP simulator", docs_url=None, redoc_url=None, openapi_url=None)

    async def fault_response(operation: str) -> Response | None:
        def refuse() -> Response:
            body = xds.envelope(xds.registry_response([("XDSRegistryBusy", "refused (injected fault)")]))
            return Response(body, media_type=SOAP_TYPE)

        return await http_faults.injected(
            sim,
            "dmp",
            operation,
            refuse=refuse,
            malformed=b"<soap:Envelope><soap:Body><rs:RegistryResponse",
            media_type=SOAP_TYPE,
        )

    def fault(status: int, code: str, reason: str) -> Response:
        return Response(xds.soap_fault(code, reason), status_code=status, media_type=SOAP_TYPE)

    @app.post(PATH)
    async def dmp(request: Request) -> Response:
        body = await request.body()
        raw = sim.evidence.store("dmp", "request.bin", body[: mtom.MAX_BODY_BYTES])
        try:
            root_xml, attachments = mtom.parse(request.headers.get("content-type", ""), body)
            if b"<!DOCTYPE" in root_xml or b"<!ENTITY" in root_xml:
                raise mtom.MtomError("DTD and entities are refused")
            root = etree.fromstring(root_xml, xds.PARSER)
        except (mtom.MtomError, etree.XMLSyntaxError) as error:
            return fault(400, "soap:Sender", f"unreadable request: {error}")
        operation_el = root.find("soap:Body/*", xds.NS)
        if root.tag != f"{{{xds.SOAP}}}Envelope" or operation_el is None:
            return fault(400, "soap:Sender", "not a SOAP 1.2 Envelope with a Body")
        operation = {
            "ProvideAndRegisterDocumentSetRequest": "provide_and_register",
            "AdhocQueryRequest": "stored_query",
            "RetrieveDocumentSetRequest": "retrieve",
            "RemoveObjectsRequest": "delete",
        }.get(etree.QName(operation_el).localname)
        if operation is None:
            return fault(400, "soap:Sender", f"unknown operation {etree.QName(operation_el).localname}")
        actor = sim.actor(request.headers.get("authorization", ""))
        if actor is None:
            sim.evidence.emit(
                "dmp", f"dmp.{operation}", {"result": "failure", "error_code": "access_denied"}, (raw,)
            )
            return fault(
                401, "soap:Sender", "a valid Bearer access token (Espace de confiance PSC) is required"
            )
        injected = await fault_response(operation)
        if injected is not None:
            return injected
        if operation == "provide_and_register":
            answer, events = sim.provide(root, attachments, actor)
            stored = sim.evidence.store("dmp", "response.xml", xds.envelope(answer))
            for data in events:
                sim.evidence.emit("dmp", "dmp.provide_and_register", data, (raw, stored))
            return Response(xds.envelope(answer), media_type=SOAP_TYPE)
        if operation == "stored_query":
            answer, data = sim.query(root)
            sim.evidence.emit("dmp", "dmp.stored_query", data, (raw,))
            return Response(xds.envelope(answer), media_type=SOAP_TYPE)
        if operation == "retrieve":
            wanted = [
                r.findtext("xds:DocumentUniqueId", namespaces=xds.NS)
                for r in operation_el.findall("xds:DocumentRequest", xds.NS)
            ]
            found = [e for e in sim.entries if e.unique_id in wanted]
            parts, responses = {}, []
            for entry in found:
                cid = f"{uuid.uuid4().hex}@dmp-simule"
                parts[cid] = entry.content
                responses.append(
                    f"<xds:DocumentResponse><xds:RepositoryUniqueId>{sim.repository_id}</xds:RepositoryUniqueId>"
                    f"<xds:DocumentUniqueId>{entry.unique_id}</xds:DocumentUniqueId><xds:mimeType>{entry.mime_type}"
                    f'</xds:mimeType><xds:Document><xop:Include xmlns:xop="{xds.NS["xop"]}" href="cid:{cid}"/>'
                    "</xds:Document></xds:DocumentResponse>"
                )
            errors = (
                []
                if len(found) == len(wanted)
                else [("XDSDocumentUniqueIdError", "unknown document uniqueId")]
            )
            answer = (
                f'<xds:RetrieveDocumentSetResponse xmlns:xds="{xds.NS["xds"]}">{xds.registry_response(errors)}'
                f"{''.join(responses)}</xds:RetrieveDocumentSetResponse>"
            )
            for unique_id in wanted:
                sim.evidence.emit(
                    "dmp",
                    "dmp.retrieve",
                    {
                        "unique_id": unique_id,
                        "patient_ins": next((e.ins for e in found if e.unique_id == unique_id), None),
                        "result": "success" if any(e.unique_id == unique_id for e in found) else "failure",
                    },
                    (raw,),
                )
            content_type, payload = mtom.build(xds.envelope(answer), parts)
            return Response(payload, media_type=content_type)
        ids = [r.get("id") for r in operation_el.findall("rim:ObjectRefList/rim:ObjectRef", xds.NS)]
        removed = [e for e in sim.entries if e.entry_id in ids or e.unique_id in ids]
        sim.entries = [e for e in sim.entries if e not in removed]
        sim.evidence.emit(
            "dmp",
            "dmp.delete",
            {
                "unique_id": [e.unique_id for e in removed],
                "count": len(removed),
                "result": "success" if removed else "failure",
            },
            (raw,),
        )
        errors = [] if removed else [("XDSRegistryError", "nothing to remove")]
        return Response(xds.envelope(xds.registry_response(errors)), media_type=SOAP_TYPE)

    return app
