"""Chapter PSC: the Pro Santé Connect login (OpenID Connect authorization code with PKCE, acr eidas1), the checks of
what comes back, UserInfo, and the Espace de confiance token of DMP transactions (cahier des charges 2.2, 2.3.4.2).
The harness is the browser; the PSC simulator is the provider."""

from __future__ import annotations

from scenarios._auth_steps import (
    PRACTITIONER_RPPS,
    as_json,
    events_of,
    misbehaving,
    psc_login,
    qualified_patient,
    received,
)
from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, snapshot, traits
from scenarios.registry import scenario

# what the provider is made to get wrong → the reason the DCC must give for refusing the login
TAMPERED = {"state": "bad_state", "signature": "bad_signature", "nonce": "bad_nonce", "acr": "bad_acr"}


@scenario("PSC.01.01", needs=("psc",))
def psc_login_with_e_cps(ctx: ScenarioContext) -> None:
    """A professional logs in with Pro Santé Connect (test e-CPS); the DCC shows their RPPS and name."""
    answer = psc_login(ctx, PRACTITIONER_RPPS)
    ctx.check(answer["result"] == "success", f"the Pro Santé Connect login failed: {answer.get('reason')}")
    ctx.check(answer.get("rpps") == PRACTITIONER_RPPS, f"RPPS shown: {answer.get('rpps')}")
    ctx.proof(
        1,
        "connexion-psc.html",
        snapshot(
            "Connexion Pro Santé Connect",
            [
                ("résultat", answer["result"]),
                ("compte", answer.get("user_id")),
                ("RPPS", answer.get("rpps")),
                ("rôle", answer.get("role")),
            ],
        ),
    )
    ctx.proof(2, "echanges-openid-connect.json", as_json(received(ctx, "psc")))


@scenario("PSC.02.01", needs=("psc",))
def authorization_request(ctx: ScenarioContext) -> None:
    """The authorisation request the provider receives carries acr_values=eidas1 and a PKCE S256 challenge."""
    answer = psc_login(ctx, PRACTITIONER_RPPS)
    requests = [e.data for e in ctx.received("psc", "psc.authorize")]
    ctx.check(bool(requests), "the provider received no authorisation request")
    ctx.check(answer["result"] == "success", f"the Pro Santé Connect login failed: {answer.get('reason')}")
    ctx.proof(1, "requete-autorisation.json", as_json(requests))


@scenario("PSC.03.01", needs=("psc",))
def tampered_answers_refused(ctx: ScenarioContext) -> None:
    """The provider sends back an altered state, then an id_token with an invalid signature, another nonce, an acr
    other than eidas1: each login is refused and no session opens."""
    outcomes = []
    for mode, reason in TAMPERED.items():
        with misbehaving(ctx, mode):
            answer = psc_login(ctx, PRACTITIONER_RPPS)
        outcomes.append((mode, answer))
        ctx.check(answer["result"] == "failure", f"a login with a tampered {mode} opened a session")
        ctx.check(answer.get("reason") == reason, f"tampered {mode}: refused for {answer.get('reason')!r}")
    ctx.proof(
        1,
        "authentifications-refusees.json",
        as_json(
            {
                "tentatives": [{"altération": m, "réponse": a} for m, a in outcomes],
                "journal": events_of(ctx, "user."),
            }
        ),
    )


@scenario("PSC.04.01", needs=("psc",))
def identity_from_userinfo(ctx: ScenarioContext) -> None:
    """After the code exchange the DCC calls UserInfo and links the account to the national id (IdNat PS, RPPS)
    with the professional's situations d'exercice."""
    answer = psc_login(ctx, PRACTITIONER_RPPS)
    ctx.check(answer["result"] == "success", f"the Pro Santé Connect login failed: {answer.get('reason')}")
    calls = received(ctx, "psc")
    ctx.check(any(c["type"] == "psc.userinfo" for c in calls), "UserInfo was not called")
    ctx.check(answer.get("user_id") == "8" + PRACTITIONER_RPPS, f"account {answer.get('user_id')}")
    ctx.proof(
        1,
        "appel-userinfo.json",
        as_json({"userinfo": [c for c in calls if c["type"] == "psc.userinfo"], "connexion": answer}),
    )


@scenario("PSC.05.01", needs=("psc", "dmp"))
def dmp_with_trust_space_token(ctx: ScenarioContext) -> None:
    """A professional logged in with PSC validates a document of a patient with a qualified INS: the DMP
    transaction carries their Espace de confiance token."""
    answer = psc_login(ctx, PRACTITIONER_RPPS)
    ctx.check(answer["result"] == "success", f"the Pro Santé Connect login failed: {answer.get('reason')}")
    if answer.get("cgu_required"):
        ctx.dcc.call("auth_accept_cgu", token=answer["token"])
    patient = qualified_patient(ctx, traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    validated = ctx.dcc.call("auth_validate_document", token=answer["token"], document_id=frcp["document_id"])
    sent = [e for e in received(ctx, "dmp") if e["type"] == "dmp.provide_and_register"]
    ctx.check(bool(sent), f"no DMP transaction after the validation ({validated.get('transmissions')})")
    ctx.proof(
        1,
        "transaction-dmp-et-jeton.json",
        as_json(
            {
                "validation": validated,
                "dmp": sent,
                "echange_de_jeton": [e for e in received(ctx, "psc") if e["data"].get("token_kind")],
            }
        ),
    )
