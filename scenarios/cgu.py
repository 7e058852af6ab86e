"""Chapter CGU: the CGU with the clause de confiance at first access, every year and at each new version; the
establishment's convention; no identity validation or qualification without the clause, but care goes on
(cahier des charges 2.3.1, 2.3.2.3)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from harness.targets import Refused
from scenarios._auth_steps import create_user, events_of, login, unique
from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, journal, snapshot, traits
from scenarios.registry import scenario


def _finess() -> str:
    """A FINESS of a test establishment no other scenario uses (over HTTP the DCC's conventions are shared)."""
    return f"99{random.randrange(10**7):07d}"


@scenario("CGU.01.01")
def cgu_at_first_access(ctx: ScenarioContext) -> None:
    """A new user's first login asks for the CGU; no patient file opens before they are accepted, then it does."""
    user = create_user(ctx, prefix="cgu01")
    patient = ctx.dcc.create_patient(traits())
    ctx.dcc.call(
        "auth_add_care_team_member",
        patient_id=patient["patient_id"],
        username=user["user_id"],
        author="admin-recette",
    )
    opened = login(ctx, user)
    ctx.check(opened["result"] == "success", f"the login failed: {opened.get('reason')}")
    ctx.check(opened.get("cgu_required") == "first_access", "the first login did not ask for the CGU")
    before = ctx.refused(
        ctx.dcc.call, "auth_access_patient", patient_id=patient["patient_id"], token=opened["token"]
    )
    accepted = ctx.dcc.call("auth_accept_cgu", token=opened["token"])
    after = ctx.dcc.call("auth_access_patient", patient_id=patient["patient_id"], token=opened["token"])
    ctx.proof(
        1,
        "demande-et-acceptation.html",
        snapshot(
            "CGU au premier accès",
            [
                ("connexion", f"{opened['result']} — CGU demandées : {opened.get('cgu_required')}"),
                ("dossier patient avant acceptation", f"refusé ({before})"),
                ("acceptation", accepted),
                ("dossier patient après acceptation", after),
            ],
        ),
    )
    ctx.proof(2, "journal-acceptations-cgu.jsonl", journal(events_of(ctx, "cgu.", "user.login", "patient.")))


@scenario("CGU.02.01")
def cgu_every_year(ctx: ScenarioContext) -> None:
    """A user whose acceptance is more than a year old (test clock: the login happens 400 days later) is asked
    for the CGU again."""
    user = create_user(ctx, prefix="cgu02")
    first = login(ctx, user)
    ctx.check(first["result"] == "success", f"the login failed: {first.get('reason')}")
    ctx.dcc.call("auth_accept_cgu", token=first["token"])
    later = datetime.now(UTC) + timedelta(days=400)
    again = login(ctx, user, at=later)
    ctx.check(again["result"] == "success", f"the login a year later failed: {again.get('reason')}")
    ctx.check(again.get("cgu_required") == "yearly", f"CGU asked again: {again.get('cgu_required')}")
    ctx.proof(1, "journal-acceptations-cgu.jsonl", journal(events_of(ctx, "cgu.", "user.login")))


@scenario("CGU.03.01")
def cgu_new_version(ctx: ScenarioContext) -> None:
    """A new version of the CGU is published; a user who accepted the previous one is asked again at their next
    login."""
    user = create_user(ctx, prefix="cgu03")
    first = login(ctx, user)
    ctx.check(first["result"] == "success", f"the login failed: {first.get('reason')}")
    ctx.dcc.call("auth_accept_cgu", token=first["token"])
    version = unique("v")[:20]
    ctx.dcc.call("auth_publish_cgu", cgu_version=version, author="dsrc-recette")
    # the next login: one TOTP step later at least (the code of the first login is spent)
    again = login(ctx, user, at=datetime.now(UTC) + timedelta(seconds=90))
    ctx.check(again["result"] == "success", f"the next login failed: {again.get('reason')}")
    ctx.check(again.get("cgu_required") == "cgu_changed", f"CGU asked again: {again.get('cgu_required')}")
    ctx.dcc.call("auth_accept_cgu", token=again["token"], cgu_version=version)
    ctx.proof(1, "journal-acceptations-cgu.jsonl", journal(events_of(ctx, "cgu.", "user.login")))


def _try_validation(ctx: ScenarioContext, patient_id: str, author: str, user_kind: str, **kw: str) -> str:
    """A validation of the identity by ``author``: « validee » when it went through, else the refusal reason."""
    try:
        return ctx.dcc.change_identity_status(
            patient_id, "validee", author=author, justificatif="carte_identite", user_kind=user_kind, **kw
        )["identity_status"]
    except Refused as refusal:
        return f"refusée ({refusal.reason})"


@scenario("CGU.04.01")
def convention_of_the_establishment(ctx: ScenarioContext) -> None:
    """For an establishment without a convention the validation of a patient's identity stops; once the
    convention is recorded, it goes on."""
    author, finess = unique("medecin-etab"), _finess()
    version = ctx.dcc.call("auth_cgu_version")["cgu_version"]
    ctx.dcc.accept_cgu(author, version, "etablissement")
    patient = ctx.dcc.create_patient(traits())
    kw = {"finess": finess, "cgu_version": version}
    without = _try_validation(ctx, patient["patient_id"], author, "etablissement", **kw)
    ctx.check(
        without.startswith("refusée"), "the identity was validated without the establishment's convention"
    )
    convention = ctx.dcc.call("auth_record_convention", finess=finess, author="dsrc-recette")
    with_it = _try_validation(ctx, patient["patient_id"], author, "etablissement", **kw)
    ctx.check(with_it == "validee", f"with the convention the validation did not go on: {with_it}")
    ctx.proof(
        1,
        "parametrage-conventions.html",
        snapshot(
            "Conventions établissement – DSRC",
            [
                ("établissement (FINESS)", finess),
                ("validation sans convention", without),
                ("convention enregistrée", convention),
                ("validation avec la convention", with_it),
            ],
        ),
    )
    ctx.proof(2, "journal-identite.jsonl", journal(events_of(ctx, "identity.", "convention.")))


@scenario("CGU.05.01")
def no_trust_clause_care_goes_on(ctx: ScenarioContext) -> None:
    """A liberal professional who has not accepted the CGU cannot validate an identity; an FRCP for the patient
    can still be created."""
    author = unique("medecin-liberal")
    patient = ctx.dcc.create_patient(traits())
    outcome = _try_validation(ctx, patient["patient_id"], author, "liberal")
    ctx.check(outcome.startswith("refusée"), "the identity was validated without a clause de confiance")
    frcp = ctx.dcc.create_frcp(patient["patient_id"], author=author, content=FRCP_CONTENT)
    ctx.check(frcp.get("document_id") is not None, "the FRCP could not be created")
    ctx.proof(1, "journal-identite.jsonl", journal(events_of(ctx, "identity.")))
    ctx.proof(
        2,
        "frcp-creee.html",
        snapshot(
            "FRCP créée sans clause de confiance", [*frcp.items(), ("validation de l'identité", outcome)]
        ),
    )
