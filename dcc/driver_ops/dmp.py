"""Test-driver operations around the DMP consultation and the mail this DCC receives (2.3.4.1, 2.1.3, 2.1.4).

``open_document`` is what happens when a professional opens an FRCP or a PPS to create or update it: the DCC
records the opening (``document.opened``: the identity, the INS, the patient's consent to the consultation), then,
in the background and without the user browsing the DMP, consults the DMP (FindDocuments, retrieve: DMP/CONS.01,
REPR.08) — or, without consent, its local copy (DMP/CONS.02) — and offers the data found as a prefill proposal.

``receive_mail`` hands a mail the MSSanté operator delivered to this DCC's BAL applicative to the inbound handling
(what ``python -m dcc.transmissions.inbound`` does for a mail received by SMTP): an acknowledgement, an FRCP sent
by another DCC, or the validated FRCP it returns (2.1.4).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from dcc import events, faults, identifiers
from dcc.driver import Driver, operation
from dcc.services import documents, reuse
from dcc.transmissions import outbox, routing

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
KINDS = {"34794-8": "FRCP", "18776-5": "PPS", "60591-5": "VSM"}

FAULT_NO_CONSULTATION = faults.register(
    "dmp_not_consulted_on_open",
    "opening an FRCP or a PPS does not consult the DMP (no FindDocuments, nothing retrieved)",
    breaks=["DMP/CONS.01", "DMP/CONS.02", "REPR.08"],  # CONS.02: nothing consulted, nothing kept to reuse
)
FAULT_CACHE_IGNORED = faults.register(
    "dmp_cache_not_proposed",
    "without the patient's consent, the DMP data kept locally are not offered",
    breaks=["DMP/CONS.02"],
)


def _title(content: bytes | None) -> str | None:
    """The CDA title of a document read from the DMP (untrusted: parsed without entities nor network)."""
    if not content:
        return None
    try:
        root = etree.fromstring(content, PARSER)
    except etree.XMLSyntaxError:
        return None
    return (root.findtext("{urn:hl7-org:v3}title") or "").strip() or None


@operation("open_document", "POST", "/driver/documents/{document_id}/openings")
def open_document(session: Session, document_id: str, author: str) -> dict[str, Any]:
    """A professional opens an FRCP or a PPS to work on it: the DMP is consulted in the background (or its local
    copy without consent) and the data of the documents found are offered (a prefill proposal per document)."""
    from dcc.transmissions.config import TransmissionConfig
    from dcc.transmissions.dmp import DmpClient, consult

    document = Driver._document(session, document_id)
    patient = Driver._patient(session, str(document.patient_id))
    choice = outbox.dmp_choice(session, patient)
    consent = choice is None or bool(choice.consent)
    qualified = patient.identity_status == routing.QUALIFIEE and bool(patient.ins_matricule)
    events.emit(
        session,
        "document.opened",
        document_id=identifiers.document_id(document),
        kind=document.kind,
        set_id=identifiers.set_id(document),
        version=document.version,
        patient_id=str(patient.id),
        identity_status=patient.identity_status,
        ins=patient.ins_matricule if qualified else None,
        dmp_consent=consent,
        author=author,
    )
    config = TransmissionConfig.from_environment()
    client = None
    if config.dmp_url and not faults.active(FAULT_NO_CONSULTATION.name):
        client = DmpClient(config.dmp_url, config.dmp_token or "", config.http_timeout_s)
    cached = consult(session, patient, client, author) if qualified else []
    source = "dmp" if consent and client is not None else "dmp_cache"
    offered = []
    if not (source == "dmp_cache" and faults.active(FAULT_CACHE_IGNORED.name)):
        for found in cached:
            kind = KINDS.get(found.type_code or "", found.type_code or "document")
            values = {"document_dmp": f"{kind} {found.unique_id}", "titre_dmp": _title(found.content)}
            reuse.propose(session, document, kind, found.unique_id, source, values)
            offered.append({"unique_id": found.unique_id, "kind": kind, "source": source})
        if not cached and source == "dmp_cache":
            reuse.propose(session, document, "DMP", "", source, {})  # the local copy was read: nothing kept
    return {**documents.describe(session, document), "dmp_consent": consent, "offered": offered}


@operation("cancel_transmission", "POST", "/driver/transmissions/{transmission_id}/cancellation")
def cancel_transmission(session: Session, transmission_id: str, author: str) -> dict[str, Any]:
    """A user stops a transmission that has not gone (e.g. a DMP submission waiting for the DMP to come back):
    the job is marked failed — given up — and the worker never tries it again."""
    from dcc import audit
    from dcc.db.models import Transmission
    from dcc.driver import NotFound

    job = session.get(Transmission, int(transmission_id)) if str(transmission_id).isdigit() else None
    if job is None:
        raise NotFound(f"no transmission {transmission_id!r}")
    if job.state == "sent":
        raise outbox.TransmissionRefused("already_sent", f"transmission {job.id} was delivered")
    before = job.state
    job.state, job.last_error, job.leased_until = "failed", f"cancelled by {author}", None
    session.flush()
    audit.record(
        session, author, "transmission.cancelled", "transmission", str(job.id), {"state": before}, {}
    )
    events.emit(
        session,
        "transmission.cancelled",
        transmission_id=job.id,
        channel=job.channel,
        external_id=job.external_id,
        author=author,
    )
    return {"transmission_id": str(job.id), "state": job.state}
