"""Chapter RCP: the regional RCP directory and RCP management (cahier des charges 2.1.5.3, seed 003 §5.2–5.5)."""

from __future__ import annotations

import base64
import json

from scenarios.context import ScenarioContext
from scenarios.data import AUTHOR, snapshot, traits
from scenarios.registry import scenario
from scenarios.resources_data import PARTICIPANTS, RCP_REFERENTIAL, b64

# An FRCP whose RCP is not typed in: the DCC fills the RCP description from its directory (RCP.01).
FRCP_FROM_DIRECTORY = {
    "auteur": AUTHOR,
    "motif": "Présentation initiale en RCP",
    "localisation": "Sein gauche",
    "proposition": "Chirurgie conservatrice puis radiothérapie",
}


def _session(ctx: ScenarioContext) -> dict:
    return _plan(ctx, _load(ctx))


def _load(ctx: ScenarioContext) -> dict:
    return ctx.dcc.call(
        "rcp_load_referential",
        file="referentiel-rcp.csv",
        content_base64=b64(RCP_REFERENTIAL),
        author="admin",
    )


def _plan(ctx: ScenarioContext, _loaded: dict) -> dict:
    return ctx.dcc.call(
        "rcp_plan_session",
        rcp_code="RCP-SEIN-01",
        title="RCP sénologie du mardi",
        date="2026-12-15T14:00:00+01:00",
        place="Salle Curie, bâtiment B",
        participants=PARTICIPANTS,
        author="secretaire-3c",
    )


@scenario("RCP.02.01")
def plan_a_session(ctx: ScenarioContext) -> None:
    """A session is planned with its expected participants, a responsible and a deputy; one without a deputy is
    refused."""
    planned = _session(ctx)
    ctx.check(bool(planned.get("session_id") or planned.get("id")), "the session has no id")
    without_deputy = [p for p in PARTICIPANTS if p["role"] != "suppleant"]
    reason = ctx.refused(
        ctx.dcc.call,
        "rcp_plan_session",
        rcp_code="RCP-SEIN-01",
        title="RCP sans suppléant",
        date="2026-12-22T14:00:00+01:00",
        place="Salle Curie",
        participants=without_deputy,
        author="secretaire-3c",
    )
    ctx.proof(
        1,
        "planification.html",
        snapshot("Séance planifiée", [*planned.items(), ("séance sans suppléant", f"refusée ({reason})")]),
    )


@scenario("RCP.03.01")
def final_list_tells_the_doctor(ctx: ScenarioContext) -> None:
    """A file registered to a session; the 3C closes the final list and the registering doctor is told."""
    planned = _session(ctx)
    session_id = str(planned.get("session_id") or planned.get("id"))
    patient = ctx.dcc.create_patient(traits())
    registration = ctx.dcc.call(
        "rcp_register", session_id=session_id, patient_id=patient["patient_id"], doctor="10000000002"
    )
    closed = ctx.dcc.call("rcp_close_final_list", session_id=session_id, by_3c="secretaire-3c")
    ctx.check(closed["notifications"] >= 1, "nobody was told of the final list")
    ctx.proof(
        1,
        "inscription-et-liste.html",
        snapshot(
            "Inscription et liste définitive", [("inscription", registration), ("liste arrêtée", closed)]
        ),
    )
    told = [e for e in ctx.dcc.events() if e["type"] == "notification.sent"]
    ctx.proof(2, "information-medecin.json", json.dumps(told, ensure_ascii=False, indent=2))


def _validated_frcp(ctx: ScenarioContext, patient_id: str) -> dict:
    frcp = ctx.dcc.create_frcp(patient_id, content=FRCP_FROM_DIRECTORY)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    ctx.dcc.set_status(frcp["document_id"], "valide")
    return frcp


def _render_cda(ctx: ScenarioContext, proof: int, document_id: str, name: str) -> bytes:
    relative = f"artifacts/{ctx.id}.{proof:02d}/{name}"
    rendered = ctx.dcc.call("render_document", document_id=document_id, format="cda_n3", artifact=relative)
    content = base64.b64decode(rendered["content_base64"])
    ctx.proof(proof, name, content)
    return content


@scenario("RCP.01.01")
def rcp_ids_in_frcp(ctx: ScenarioContext) -> None:
    """The national referential is loaded, a file is registered to one of its RCP, and the FRCP produced carries
    the RCP's identifiers in its header (encompassingEncounter)."""
    loaded = _load(ctx)
    planned = _plan(ctx, loaded)
    patient = ctx.dcc.create_patient(traits())
    ctx.dcc.call(
        "rcp_register",
        session_id=str(planned.get("session_id") or planned.get("id")),
        patient_id=patient["patient_id"],
        doctor="10000000002",
    )
    frcp = _validated_frcp(ctx, patient["patient_id"])
    cda = _render_cda(ctx, 1, frcp["document_id"], "frcp-n3.xml")
    ctx.check(planned["rcp_id"].rpartition("^")[2].encode() in cda, "the FRCP does not name its RCP")
    changes = [e["data"] for e in ctx.dcc.events() if e["type"] == "rcp.directory_changed"]
    ctx.proof(
        2,
        "annuaire-rcp.html",
        snapshot(
            "Annuaire régional des RCP",
            [("chargement du référentiel", loaded), *((c["rcp_id"], c["change"]) for c in changes)],
        ),
    )


@scenario("RCP.04.01")
def quorum_in_frcp(ctx: ScenarioContext) -> None:
    """A session is held with its participants present; the FRCP validated for it reports the quorum."""
    planned = _session(ctx)
    session_id = str(planned.get("session_id") or planned.get("id"))
    patient = ctx.dcc.create_patient(traits())
    ctx.dcc.call(
        "rcp_register", session_id=session_id, patient_id=patient["patient_id"], doctor="10000000002"
    )
    held = ctx.dcc.call(
        "rcp_record_quorum",
        session_id=session_id,
        present=[p["id"] for p in PARTICIPANTS],
        author="10000000001",
    )
    frcp = _validated_frcp(ctx, patient["patient_id"])
    cda = _render_cda(ctx, 1, frcp["document_id"], "frcp-n3.xml")
    ctx.check(held["quorum"].encode() in cda, "the quorum code is not in the FRCP")
