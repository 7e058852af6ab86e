"""Chapter AUTH: local login with password and TOTP, OTP replay and lockout, the means of authentication offered,
the contextual call from a hospital record and the Pro Santé Connect login a DMP action then asks for (cahier des
charges 2.2)."""

from __future__ import annotations

from scenarios._auth_steps import (
    PRACTITIONER_RPPS,
    as_json,
    contextual_call,
    create_user,
    events_of,
    forged_call,
    login,
    psc_login,
    qualified_patient,
    received,
    totp,
    wrong_code,
)
from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, journal, snapshot, traits
from scenarios.registry import scenario


@scenario("AUTH.01.01")
def password_and_otp(ctx: ScenarioContext) -> None:
    """A login with password and a valid OTP opens a session; without the OTP, or with a wrong one, it is
    refused."""
    user = create_user(ctx, prefix="auth01")
    ok = login(ctx, user)
    ctx.check(ok["result"] == "success", f"password + valid OTP refused: {ok.get('reason')}")
    without = login(ctx, user, otp=None)
    ctx.check(without["result"] == "failure", "a password without an OTP opened a session")
    wrong = login(ctx, user, otp=wrong_code(user))
    ctx.check(wrong["result"] == "failure", "a wrong OTP opened a session")
    ctx.proof(
        1,
        "connexions.html",
        snapshot(
            "Connexions identifiant + mot de passe + OTP",
            [
                ("mot de passe + OTP valide", f"{ok['result']} (méthode {ok.get('method')})"),
                ("mot de passe sans OTP", f"{without['result']} ({without.get('reason')})"),
                ("mot de passe + OTP erroné", f"{wrong['result']} ({wrong.get('reason')})"),
            ],
        ),
    )
    ctx.proof(2, "journal-authentifications.jsonl", journal(events_of(ctx, "user.")))


@scenario("AUTH.01.02")
def totp_enrolment(ctx: ScenarioContext) -> None:
    """A new account's TOTP is enrolled from its QR code (otpauth URI); the code an authenticator app computes
    from it opens a session."""
    user = create_user(ctx, prefix="auth01-enrol")
    ctx.check(user["otpauth_uri"].startswith("otpauth://totp/"), "no otpauth:// URI to show as a QR code")
    answer = login(ctx, user, otp=totp(user))
    ctx.check(
        answer["result"] == "success", f"the enrolled TOTP did not open a session: {answer.get('reason')}"
    )
    ctx.proof(
        1,
        "enrolement-et-connexion.html",
        snapshot(
            "Enrôlement TOTP et connexion",
            [
                ("compte", user["user_id"]),
                ("QR code (URI otpauth)", user["otpauth_uri"]),
                ("connexion avec le code de l'application", f"{answer['result']} ({answer.get('method')})"),
            ],
        ),
    )


@scenario("AUTH.02.01")
def otp_replay_and_lockout(ctx: ScenarioContext) -> None:
    """An OTP used once is refused when replayed; consecutive failures lock the account."""
    user = create_user(ctx, prefix="auth02")
    code = totp(user)
    first = login(ctx, user, otp=code)
    ctx.check(first["result"] == "success", f"the first login was refused: {first.get('reason')}")
    replay = login(ctx, user, otp=code)
    ctx.check(replay["result"] == "failure", "the replayed OTP opened a session")
    ctx.note("harness.otp_replayed", user_id=user["user_id"], otp=code)
    failures = []
    for _ in range(10):  # bounded: the reference locks after 5 consecutive failures (the replay counts)
        attempt = login(ctx, user, otp=None, password="not-the-password-1")
        failures.append(attempt.get("reason"))
        if attempt.get("reason") == "locked":
            break
    after = login(ctx, user)
    ctx.check(after["result"] == "failure", "the account was not locked after repeated failures")
    ctx.proof(
        1,
        "journal-authentifications.jsonl",
        journal(events_of(ctx, "user.")),
    )


@scenario("AUTH.03.01")
def means_of_authentication(ctx: ScenarioContext) -> None:
    """The login page's means of authentication: Pro Santé Connect, password + OTP, the contextual call — none
    weaker. The editor's written commitment is a manual proof: a draft is produced for them to sign."""
    offered = ctx.dcc.call("auth_methods")
    methods = [m.get("method") for m in offered.get("methods", [])]
    ctx.check("password" not in methods, "a password-only login is offered")
    ctx.proof(
        1,
        "page-de-connexion.html",
        snapshot("Moyens d'authentification paramétrés", [(m.get("method"), m) for m in offered["methods"]]),
    )
    ctx.proof(
        2,
        "engagement-a-signer.md",
        "# Engagement de l'éditeur (à compléter et signer)\n\n"
        "L'éditeur atteste que le DCC ne propose aucun moyen d'authentification d'un niveau de sécurité inférieur "
        "à Pro Santé Connect ou à l'authentification par identifiant, mot de passe et OTP.\n\n"
        "Moyens paramétrés relevés par la recette : " + ", ".join(str(m) for m in methods) + "\n\n"
        "Nom, fonction, date, signature : ……\n",
    )


@scenario("AUTH.04.01", needs=("psc", "dpi", "dmp"))
def psc_after_contextual_call(ctx: ScenarioContext) -> None:
    """Opened by a contextual call, the DCC asks for a Pro Santé Connect login before sharing a document to the
    DMP; once logged in with PSC, the share goes with the professional's token."""
    patient = qualified_patient(ctx, traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    ctx.dcc.set_status(frcp["document_id"], "valide")
    call = contextual_call(ctx, patient["ins_matricule"])
    opened = ctx.dcc.call("auth_contextual_login", token=call["token"])
    ctx.check(opened["result"] == "success", f"the contextual call was refused: {opened.get('reason')}")
    if opened.get("cgu_required"):
        ctx.dcc.call("auth_accept_cgu", token=opened["token"])
    asked = ctx.refused(
        ctx.dcc.call, "auth_dmp_share", token=opened["token"], document_id=frcp["document_id"]
    )
    again = psc_login(ctx, PRACTITIONER_RPPS)
    ctx.check(again["result"] == "success", f"the Pro Santé Connect login failed: {again.get('reason')}")
    ctx.check(again["user_id"] == opened["user_id"], "the PSC login is not the same professional's account")
    if again.get("cgu_required"):
        ctx.dcc.call("auth_accept_cgu", token=again["token"])
    shared = ctx.dcc.call("auth_dmp_share", token=again["token"], document_id=frcp["document_id"])
    ctx.check(shared.get("token_kind") == "psc_trust_space", "the DMP share did not carry the PSC token")
    ctx.proof(
        1,
        "reconnexion-psc.html",
        snapshot(
            "Partage DMP après un appel contextuel",
            [
                ("appel contextuel", f"{opened['result']} ({opened.get('user_id')})"),
                ("partage DMP demandé", f"refusé : {asked}"),
                ("connexion Pro Santé Connect", f"{again['result']} ({again.get('user_id')})"),
                ("partage DMP", shared),
            ],
        ),
    )
    ctx.proof(
        2,
        "journal-authentifications-et-dmp.json",
        as_json(
            {
                "dcc": events_of(ctx, "user.", "dmp.", "transmission."),
                "dmp": received(ctx, "dmp"),
            }
        ),
    )


@scenario("AUTH.05.01", needs=("dpi",))
def contextual_call_single_use(ctx: ScenarioContext) -> None:
    """A signed contextual call from the hospital record opens the patient's file; replayed, it is refused; a
    token whose signature does not verify is refused."""
    patient = qualified_patient(ctx, traits(), ("109076322083489", "1.2.250.1.213.1.4.8"))
    call = contextual_call(ctx, "109076322083489")
    opened = ctx.dcc.call("auth_contextual_login", token=call["token"])
    ctx.check(opened["result"] == "success", f"the contextual call was refused: {opened.get('reason')}")
    context = opened.get("context") or {}
    ctx.check(context.get("patient_id") is not None, "the contextual call did not open the patient's file")
    replay = ctx.dcc.call("auth_contextual_login", token=call["token"])
    ctx.check(replay["result"] == "failure", "the replayed contextual call opened a session")
    forged = ctx.dcc.call("auth_contextual_login", token=forged_call(ctx, "109076322083489"))
    ctx.check(forged["result"] == "failure", "a contextual call whose signature does not verify was accepted")
    ctx.proof(
        1,
        "appel-contextuel.html",
        snapshot(
            "Appel contextuel depuis le DPI",
            [
                ("patient", patient["patient_id"]),
                ("appel", f"{opened['result']} — dossier ouvert : {context.get('patient_id')}"),
                ("rejeu du même appel", f"{replay['result']} ({replay.get('reason')})"),
                ("jeton à la signature altérée", f"{forged['result']} ({forged.get('reason')})"),
            ],
        ),
    )
