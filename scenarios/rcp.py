"""Chapter RCP: the regional RCP directory and RCP management (cahier des charges 2.1.5.3, seed 003 §5.2–5.5)."""

from __future__ import annotations

import json

from scenarios.context import ScenarioContext
from scenarios.data import snapshot, traits
from scenarios.registry import scenario
from scenarios.resources_data import PARTICIPANTS, RCP_REFERENTIAL, b64


def _session(ctx: ScenarioContext) -> dict:
    ctx.dcc.call(
        "rcp_load_referential",
        file="referentiel-rcp.csv",
        content_base64=b64(RCP_REFERENTIAL),
        author="admin",
    )
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
