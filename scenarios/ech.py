"""Chapter ECH: the FRCP exchanged between the DCC of two regions by MSSanté (cahier des charges 2.1.4). The other
region is the peer DCC simulator: it receives an FRCP « complétée » on its BAL applicative, validates it and sends
it back; or it sends one for an RCP of this region. The harness plays the MSSanté operator's delivery of what
lands in this DCC's mailbox (``receive_mail``)."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from typing import Any

from lxml import etree

from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, snapshot
from scenarios.dmp import WAIT_S, dmp_patient, new_ins
from scenarios.registry import scenario

USER = "medecin-1"
DCC_ADDRESS = "dcc@dcc-region.mssante.fr"  # the reference DCC's BAL applicative (DCC_MSS_SENDER default)
V3 = "urn:hl7-org:v3"
NEEDS = ("mss", "peer_dcc", "dmp")  # a validated FRCP of a qualified patient also goes to the DMP


def completed_frcp(ctx: ScenarioContext) -> tuple[dict[str, Any], dict[str, Any]]:
    patient = dmp_patient(ctx)
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    return patient, ctx.dcc.set_status(frcp["document_id"], "complete")


def send(ctx: ScenarioContext, document_id: str) -> None:
    peer = ctx.simulator("peer_dcc")
    ctx.dcc.call("send_to_peer", document_id=document_id, peer_address=peer.address, author=USER)
    ctx.dcc.call("run_outbox", wait_s=WAIT_S)
    ctx.check(peer.wait_idle(10.0), "the peer DCC did not finish handling the FRCP")


def deliver_mailbox(ctx: ScenarioContext, seen: int = 0) -> int:
    """Hands what the MSS operator holds for this DCC's BAL (after the first ``seen`` mails) to the DCC."""
    mails = ctx.simulator("mss").mailbox(DCC_ADDRESS)
    for delivered in mails[seen:]:
        raw = delivered.analysis.message.as_bytes()
        ctx.dcc.call("receive_mail", raw_base64=base64.b64encode(raw).decode(), sender=delivered.sender)
    return len(mails)


def mss_received(ctx: ScenarioContext, to: str) -> list[Any]:
    return [e for e in ctx.received("mss", "mss.message_received") if e.data.get("to_address") == to]


def eml_of(ctx: ScenarioContext, event: Any) -> bytes:
    return next(
        (ctx.simulators.evidence.read(p) for p in event.artifacts if p.endswith(".eml")), b"no SMTP source"
    )


def cda_in_xdm(ctx: ScenarioContext, event: Any) -> bytes | None:
    for path in event.artifacts:
        if path.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(ctx.simulators.evidence.read(path))) as archive:
                for name in archive.namelist():
                    if name.upper().endswith(".XML") and "METADATA" not in name.upper():
                        return archive.read(name)
    return None


@scenario("ECH.01.01", needs=NEEDS)
def send_completed_frcp(ctx: ScenarioContext) -> None:
    """A completed FRCP goes to the other region's DCC in CDA R2 N3, by MSSanté, to its BAL applicative."""
    _, frcp = completed_frcp(ctx)
    send(ctx, frcp["document_id"])
    received = mss_received(ctx, ctx.simulator("peer_dcc").address)
    ctx.check(bool(received), "the peer DCC's BAL received nothing")
    ctx.proof(1, "message.eml", eml_of(ctx, received[0]))
    ctx.proof(2, "frcp-n3.xml", cda_in_xdm(ctx, received[0]) or b"no CDA in the XDM")


@scenario("ECH.02.01", needs=NEEDS)
def sent_frcp_read_only(ctx: ScenarioContext) -> None:
    """Once sent, the FRCP can no longer be modified at the source; it can still be displayed."""
    _, frcp = completed_frcp(ctx)
    send(ctx, frcp["document_id"])
    reason = ctx.refused(ctx.dcc.enter, frcp["document_id"], "motif", "Modification après envoi")
    shown = ctx.dcc.get_document(frcp["document_id"])
    ctx.proof(
        1,
        "refus-et-affichage.html",
        snapshot(
            "FRCP envoyée au DCC tiers",
            [("Modification", f"refusée ({reason})"), ("Affichage", json.dumps(shown, ensure_ascii=False))],
        ),
    )


@scenario("ECH.03.01", needs=NEEDS)
def validated_version_replaces(ctx: ScenarioContext) -> None:
    """The peer validates and returns the FRCP; the source keeps the validated version, its number, its custodian."""
    _, frcp = completed_frcp(ctx)
    seen = len(ctx.simulator("mss").mailbox(DCC_ADDRESS))
    send(ctx, frcp["document_id"])
    deliver_mailbox(ctx, seen)
    replaced = [e["data"] for e in ctx.dcc.events() if e["type"] == "document.replaced_by_peer"]
    ctx.check(bool(replaced), "the validated FRCP returned by the peer was not integrated")
    returned = [e for e in ctx.received("peer-dcc", "peer.frcp_returned")]
    for event in returned[:1]:
        for path in event.artifacts:
            if path.endswith(".xml"):
                ctx.proof(1, "frcp-validee.xml", ctx.simulators.evidence.read(path))
    shown = ctx.dcc.get_document(replaced[-1]["document_id"])
    ctx.proof(
        2,
        "frcp-source.html",
        snapshot(
            "FRCP dans le système source",
            [(k, replaced[-1].get(k)) for k in ("document_id", "version", "status", "custodian")]
            + [("document", json.dumps(shown, ensure_ascii=False))],
        ),
    )


def peer_frcp(ctx: ScenarioContext, patient: dict[str, Any]) -> bytes:
    """An FRCP « complétée » of the other region for this patient: this DCC's rendering of one, re-identified as
    the other DCC's document (its own id, a set this DCC has never seen)."""
    local = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.set_status(local["document_id"], "complete")
    rendered = ctx.dcc.call("render_document", document_id=local["document_id"], format="cda_n3")
    tree = etree.fromstring(base64.b64decode(rendered["content_base64"]))
    tree.find(f"{{{V3}}}id").attrib.update({"root": "1.2.250.1.999.77.1", "extension": uuid.uuid4().hex[:12]})
    set_id = tree.find(f"{{{V3}}}setId")
    set_id.attrib.clear()
    set_id.set("root", str(uuid.uuid4()).upper())
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@scenario("ECH.04.01", needs=NEEDS)
def integrate_received_frcp(ctx: ScenarioContext) -> None:
    """The peer sends a completed FRCP: integrated, identity matched, completed, validated, returned at version + 1."""
    patient = dmp_patient(ctx)
    peer = ctx.simulator("peer_dcc")
    seen = len(ctx.simulator("mss").mailbox(DCC_ADDRESS))
    peer.send_frcp(peer_frcp(ctx, patient), DCC_ADDRESS)
    deliver_mailbox(ctx, seen)
    received = [e["data"] for e in ctx.dcc.events() if e["type"] == "document.received"]
    created = [e["data"] for e in ctx.dcc.events() if e["type"] == "document.created"]
    ctx.check(bool(received), "the FRCP sent by the peer was not integrated")
    document_id = created[-1]["document_id"]
    ctx.dcc.enter(document_id, "proposition", "Chirurgie puis radiothérapie (RCP de la région)")
    ctx.dcc.set_status(document_id, "valide")
    ctx.dcc.call("run_outbox", wait_s=WAIT_S)
    ctx.check(peer.wait_idle(10.0), "the peer DCC did not finish handling the returned FRCP")
    ctx.proof(
        1,
        "rapport-integration.html",
        snapshot(
            "Intégration de la FRCP reçue",
            [("reçue", json.dumps(received[-1], ensure_ascii=False))]
            + [
                (e["type"], json.dumps(e["data"], ensure_ascii=False))
                for e in ctx.dcc.events()
                if e["type"] in ("identity.matched", "document.created")
            ],
        ),
    )
    back = mss_received(ctx, peer.address)
    ctx.check(bool(back), "the validated FRCP did not go back to the peer DCC")
    ctx.proof(2, "retour.eml", eml_of(ctx, back[-1]))


@scenario("ECH.05.01", needs=NEEDS)
def refused_with_error_mdn(ctx: ScenarioContext) -> None:
    """The peer sends an FRCP whose INS contradicts the message's: refused, an error MDN with its code goes back."""
    patient = dmp_patient(ctx)
    peer = ctx.simulator("peer_dcc")
    seen = len(ctx.simulator("mss").mailbox(DCC_ADDRESS))
    peer.send_frcp(peer_frcp(ctx, patient), DCC_ADDRESS, ins=new_ins())
    deliver_mailbox(ctx, seen)
    refused = [e["data"] for e in ctx.dcc.events() if e["type"] == "document.integration_refused"]
    ctx.check(bool(refused), "the incoherent FRCP was integrated")
    ctx.check(peer.wait_idle(10.0), "the peer DCC did not finish")
    mdn = [e for e in mss_received(ctx, peer.address) if not e.data.get("from")]
    ctx.check(bool(mdn), "no error MDN reached the sender")
    ctx.proof(1, "mdn-erreur.eml", eml_of(ctx, mdn[-1]))
