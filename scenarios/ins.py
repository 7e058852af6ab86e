"""Chapters INS and INS/RAP: the INS and its key, the RNIV statuses and their history, INSi and the downgrade,
« Tiers de confiance », and the rapprochement of identities received by flow or typed by hand (cahier des charges
2.3.2, 2.3.2.1–2.3.2.3). The reference target's INSi is the simulator with its built-in test identities."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, journal, snapshot, traits
from scenarios.registry import scenario

OID_TEST = "1.2.250.1.213.1.4.10"
USER = "medecin-1"
MARTIN = traits("MARTIN", ("Jeanne", "Marie"), "F", "1979-03-12", "75056")
MARTIN_INS = "279035121518989"
DUPONT = traits("DUPONT", ("Pierre",), "M", "2009-07-01", "63220")
DUPONT_INS = "109076322083489"
BERNARD = traits("BERNARD", ("Claire",), "F", "2009-07-01", "63220")


def _key(body: str) -> str:
    digits = body[:5] + {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7]) + body[7:]
    return f"{97 - int(digits) % 97:02d}"


def _clause(ctx: ScenarioContext) -> None:
    """The acting professional accepts the CGU, which carry the clause de confiance (2.3.1)."""
    ctx.dcc.accept_cgu(USER, "1", "liberal")


def _status(ctx: ScenarioContext, patient_id: str, to: str, **kw: Any) -> dict:
    return ctx.dcc.change_identity_status(patient_id, to, user_kind="liberal", cgu_version="1", **kw)


def _with(base: dict, **changes: Any) -> dict:
    return {**base, **changes}


def _enter(ctx: ScenarioContext, identity: dict) -> dict:
    """An identity typed by hand (2.3.2.2)."""
    return ctx.dcc.call("identity_enter", traits=identity, author=USER)


def _receive(ctx: ScenarioContext, identity: dict, status: str, source: str, **kw: Any) -> dict:
    """An identity received by interoperability flow (2.3.2.1)."""
    return ctx.dcc.call(
        "identity_receive",
        traits=identity,
        received_status=status,
        source_identity_id=source,
        author=USER,
        **kw,
    )


def _enter_ins(ctx: ScenarioContext, patient_id: str, matricule: str) -> dict:
    return ctx.dcc.call(
        "identity_enter_ins", patient_id=patient_id, matricule=matricule, oid=OID_TEST, author=USER
    )


def _kept_after_rapprochement(ctx: ScenarioContext, answer: dict, patient_id: str) -> dict:
    """An incoherent identity waits for a human; the professional keeps the proposed local identity."""
    ctx.check(
        answer["action"] == "ask", f"an incoherent identity was not proposed for rapprochement: {answer}"
    )
    ctx.check(patient_id in answer["candidates"], f"the local identity {patient_id} was not proposed")
    return ctx.dcc.call("identity_decide", input_id=answer["input_id"], choice=patient_id, author=USER)


@scenario("INS.01.01")
def ins_key_checked(ctx: ScenarioContext) -> None:
    """The test matricule is accepted, the same with a wrong key refused, a Corsican (2A) matricule accepted."""
    _clause(ctx)
    patient = ctx.dcc.create_patient(traits())["patient_id"]
    corse = "185022A004012" + _key("185022A004012")
    steps = [(corse + " (Corse, 2A)", _enter_ins(ctx, patient, corse)["patient_id"])]
    steps.append((MARTIN_INS, _enter_ins(ctx, patient, MARTIN_INS)["patient_id"]))
    wrong = MARTIN_INS[:13] + "88"
    steps.append((f"{wrong} (clé erronée)", ctx.refused(_enter_ins, ctx, patient, wrong)))
    ctx.proof(1, "saisies-ins.html", snapshot(f"Saisie du matricule INS, patient {patient}", steps))


@scenario("INS.03.01")
def status_history(ctx: ScenarioContext) -> None:
    """An identity changes status several times; each change is historised (previous status, date, author)."""
    _clause(ctx)
    patient = ctx.dcc.create_patient(traits())["patient_id"]
    _status(ctx, patient, "validee", justificatif="passeport", reason="passeport présenté")
    _status(ctx, patient, "provisoire", downgrade=True, reason="doute sur l'identité")
    _status(ctx, patient, "validee", justificatif="carte_identite", reason="carte d'identité présentée")
    changes = [e["data"] for e in ctx.dcc.events() if e["type"] == "identity.status_changed"]
    rows = [(f"{c.get('at')} {c.get('author')}", f"{c.get('from')} → {c.get('to')}") for c in changes]
    ctx.check(len(changes) == 3, f"{len(changes)} status changes recorded, 3 expected")
    ctx.proof(1, "historique.html", snapshot(f"Historique des statuts, patient {patient}", rows))
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.05.01", needs=("insi",))
def downgrade_on_ko(ctx: ScenarioContext) -> None:
    """A qualified identity whose INSi verification answers 01 is downgraded and loses its INS."""
    _clause(ctx)
    entered = _enter(ctx, MARTIN)
    patient = entered["patient"]["patient_id"]
    ctx.check(
        entered["patient"]["identity_status"] == "recuperee", f"INSi retrieval did not happen: {entered}"
    )
    _status(ctx, patient, "qualifiee", justificatif="carte_identite", reason="carte d'identité présentée")
    answer = ctx.dcc.call(
        "identity_insi", patient_id=patient, author=USER, carte_vitale="1111111111111"
    )  # a card INSi does not know: 01
    ctx.check(answer["insi"]["code"] == "01", f"INSi answered {answer['insi']}, 01 expected")
    ctx.check(answer["ins_matricule"] is None, "the matricule was not invalidated")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.06.01", needs=("insi",))
def tiers_de_confiance(ctx: ScenarioContext) -> None:
    """« Tiers de confiance » is refused by hand and added automatically to a qualified identity received by flow."""
    _clause(ctx)
    patient = ctx.dcc.create_patient(traits())["patient_id"]
    refusal = ctx.refused(
        _status, ctx, patient, "validee", justificatif="tiers_de_confiance", reason="à la main"
    )
    received = _receive(ctx, MARTIN, "qualifiee", "SIH^1", ins_matricule=MARTIN_INS, ins_oid=OID_TEST)
    justificatif = (received["patient"] or {}).get("justificatif")
    ctx.check(
        justificatif == "tiers_de_confiance", f"the received identity has justificatif {justificatif!r}"
    )
    ctx.proof(
        1,
        "justificatifs.html",
        snapshot(
            "Justificatifs",
            [("saisie « Tiers de confiance »", refusal), ("identité reçue qualifiée", justificatif)],
        ),
    )
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS/RAP.02.01", needs=("insi",))
def received_qualified_kept(ctx: ScenarioContext) -> None:
    """Received qualifiée, kept: a récupérée identity is qualified without INSi, a validée one after INSi (2a)."""
    _clause(ctx)
    recuperee = _enter(ctx, MARTIN)["patient"]["patient_id"]
    first = _receive(
        ctx,
        _with(MARTIN, prenoms=["Jeanne"]),
        "qualifiee",
        "SIH^2",
        ins_matricule=MARTIN_INS,
        ins_oid=OID_TEST,
    )
    first = _kept_after_rapprochement(ctx, first, recuperee)
    ctx.check(first["insi"] is None, "INSi was called for an identity already récupérée")
    validee = ctx.dcc.create_patient(DUPONT)["patient_id"]
    _status(ctx, validee, "validee", justificatif="passeport", reason="passeport présenté")
    second = _receive(
        ctx,
        _with(DUPONT, prenoms=["Pierre", "Jean"]),
        "qualifiee",
        "SIH^3",
        ins_matricule=DUPONT_INS,
        ins_oid=OID_TEST,
    )
    second = _kept_after_rapprochement(ctx, second, validee)
    for answer in (first, second):
        ctx.check(answer["patient"]["identity_status"] == "qualifiee", f"not qualified: {answer}")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS/RAP.03.01", needs=("insi",))
def received_validated_kept(ctx: ScenarioContext) -> None:
    """Received validée, kept: provisoire becomes validée (3a), récupérée becomes qualifiée (3b)."""
    _clause(ctx)
    local = traits()
    provisoire = ctx.dcc.create_patient(local)["patient_id"]
    answer = _receive(
        ctx, _with(local, prenoms=local["prenoms"][:1]), "validee", "SIH^4", justificatif="passeport"
    )
    _kept_after_rapprochement(ctx, answer, provisoire)
    recuperee = _enter(ctx, MARTIN)["patient"]["patient_id"]
    answer = _receive(ctx, _with(MARTIN, prenoms=["Jeanne"]), "validee", "SIH^5", justificatif="passeport")
    answer = _kept_after_rapprochement(ctx, answer, recuperee)
    ctx.check(
        answer["patient"]["identity_status"] == "qualifiee", f"récupérée did not become qualifiée: {answer}"
    )
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS/RAP.05.01", needs=("insi",))
def typed_known_identity(ctx: ScenarioContext) -> None:
    """The traits of an identity already validated are typed again: the existing identity is used, no duplicate."""
    _clause(ctx)
    existing = ctx.dcc.create_patient(BERNARD)["patient_id"]
    _status(ctx, existing, "validee", justificatif="passeport", reason="passeport présenté")
    answer = _enter(ctx, BERNARD)
    ctx.check(answer["case"] == "6c", f"case {answer['case']} instead of 6c")
    ctx.check((answer["patient"] or {}).get("patient_id") == existing, "the existing identity was not used")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.02.01", needs=("insi",))
def rniv_transitions(ctx: ScenarioContext) -> None:
    """provisoire → validée (pièce d'identité) → qualifiée (INSi); provisoire → qualifiée directly is refused."""
    _clause(ctx)
    patient = ctx.dcc.create_patient(DUPONT)
    pid = patient["patient_id"]
    steps = [("création", patient["identity_status"])]
    ctx.check(patient["identity_status"] == "provisoire", f"created {patient['identity_status']}")
    _enter_ins(ctx, pid, DUPONT_INS)  # the INS read from the carte Vitale: only the RNIV stands in the way
    refusal = ctx.refused(_status, ctx, pid, "qualifiee", justificatif="passeport", reason="directement")
    steps.append(("provisoire → qualifiée, INS saisi (refusée)", refusal))
    validee = _status(ctx, pid, "validee", justificatif="passeport", reason="passeport présenté")
    steps.append(("validation sur passeport", validee["identity_status"]))
    qualified = ctx.dcc.call("identity_insi", patient_id=pid, author=USER)
    steps.append((f"appel INSi (code {qualified['insi']['code']})", qualified["identity_status"]))
    ctx.check(qualified["identity_status"] == "qualifiee", f"not qualified by INSi: {qualified}")
    ctx.proof(1, "statuts.html", snapshot(f"Statuts successifs, patient {pid}", steps))
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.04.01", needs=("insi",))
def insi_returns_traced(ctx: ScenarioContext) -> None:
    """INSi by traits: a test patient (00), an unknown one (01), a homonym searched without its birthplace (02)."""
    _clause(ctx)
    searched = [
        ("patient de test", MARTIN, "00"),
        ("patient inconnu", traits(), "01"),
        ("homonyme", traits("PETIT", ("Louis",), "M", "1985-02-10", None), "02"),
    ]
    rows = []
    for label, identity, expected in searched:
        pid = ctx.dcc.create_patient(identity)["patient_id"]
        answer = ctx.dcc.call("identity_insi", patient_id=pid, author=USER)["insi"]
        ctx.check(answer["code"] == expected, f"{label}: INSi answered {answer}, {expected} expected")
        rows.append((label, f"code {answer['code']}, requête {answer['request_id']}"))
    traced = [e["data"] for e in ctx.dcc.events() if e["type"] == "identity.insi_result"]
    ctx.check(len(traced) == 3, f"{len(traced)} INSi returns traced, 3 expected")
    rows += [
        (f"trace {t.get('request_id')}", f"{t.get('code')} {t.get('matricule')} {t.get('oid')}")
        for t in traced
    ]
    ctx.proof(1, "traces-insi.html", snapshot("Appels INSi et retours", rows))


@scenario("INS.05.02", needs=("insi",))
def downgrade_to_provisoire(ctx: ScenarioContext) -> None:
    """Regional policy « provisoire »: a récupérée identity qualified, then verified with a 02 answer, is provisoire."""
    _clause(ctx)
    policy = ctx.dcc.call("identity_policy")
    ctx.check(
        policy["ins_downgrade_to"] == "provisoire", f"the regional policy is {policy}, provisoire expected"
    )
    ctx.proof(
        1, "politique-regionale.html", snapshot("Politique régionale de rétrogradation", list(policy.items()))
    )
    petit = traits("PETIT", ("Louis",), "M", "1985-02-10", "75056")
    entered = _enter(ctx, petit)["patient"]
    pid = entered["patient_id"]
    ctx.check(entered["identity_status"] == "recuperee", f"INSi retrieval did not happen: {entered}")
    _status(ctx, pid, "qualifiee", justificatif="carte_identite", reason="carte d'identité présentée")
    insi = ctx.simulator("insi")
    known = insi.identities
    twin = next(i for i in known if i.nom_naissance == "PETIT" and i.lieu_naissance == "75056")
    insi.identities = (*known, replace(twin, matricule="1850275056999"))  # INSi now finds two identities: 02
    try:
        answer = ctx.dcc.call("identity_insi", patient_id=pid, author=USER)
    finally:
        insi.identities = known
    ctx.check(answer["insi"]["code"] == "02", f"INSi answered {answer['insi']}, 02 expected")
    ctx.check(answer["identity_status"] == "provisoire", f"status {answer['identity_status']} after 02")
    ctx.check(answer["ins_matricule"] is None, "the matricule was not invalidated")
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.07.01", needs=("insi",))
def care_not_blocked(ctx: ScenarioContext) -> None:
    """For a patient typed at the identity desk whom INSi does not know (provisoire), an FRCP is created, completed
    and validated."""
    _clause(ctx)
    patient = _enter(ctx, traits())["patient"]
    ctx.check(patient["identity_status"] == "provisoire", f"created {patient['identity_status']}")
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    for to in ("complete", "valide"):
        ctx.check(ctx.dcc.set_status(frcp["document_id"], to)["status"] == to, f"the FRCP is not {to}")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS.10.01", needs=("insi",))
def typed_unknown_identity(ctx: ScenarioContext) -> None:
    """An unknown identity typed (with the INS read from the carte Vitale) is created provisoire, then goes on to
    qualifiée: INSi retrieval (récupérée) and a pièce d'identité, or validation then INSi when INSi has not answered."""
    _clause(ctx)
    petit = traits("PETIT", ("Louis",), "M", "1985-02-10", "75056")
    matricule = "1850275056123"
    answer = ctx.dcc.call(
        "identity_enter",
        traits=petit,
        author=USER,
        ins_matricule=matricule + _key(matricule),
        ins_oid=OID_TEST,
    )
    ctx.check(answer["case"] == "7", f"case {answer['case']} instead of 7")
    pid = answer["patient"]["patient_id"]
    created = next(e["data"] for e in ctx.dcc.events() if e["type"] == "patient.created")
    ctx.check(created.get("identity_status") == "provisoire", f"created {created.get('identity_status')}")
    if answer["patient"]["identity_status"] == "recuperee":
        final = _status(ctx, pid, "qualifiee", justificatif="passeport", reason="passeport présenté")
    else:
        _status(ctx, pid, "validee", justificatif="passeport", reason="passeport présenté")
        final = ctx.dcc.call("identity_insi", patient_id=pid, author=USER)
    ctx.check(final["identity_status"] == "qualifiee", f"not qualified: {final}")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS/RAP.01.01", needs=("insi",))
def received_identical_inherited(ctx: ScenarioContext) -> None:
    """A qualifiée identity identical to a validée local one is received: the local identity becomes qualifiée."""
    _clause(ctx)
    pid = ctx.dcc.create_patient(DUPONT)["patient_id"]
    _status(ctx, pid, "validee", justificatif="passeport", reason="passeport présenté")
    answer = _receive(ctx, DUPONT, "qualifiee", "SIH^11", ins_matricule=DUPONT_INS, ins_oid=OID_TEST)
    ctx.check(answer["case"] == "1a", f"case {answer['case']} instead of 1a")
    ctx.check((answer["patient"] or {}).get("patient_id") == pid, "the local identity was not kept")
    ctx.check(answer["patient"]["identity_status"] == "qualifiee", f"not qualified: {answer}")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS/RAP.04.01", needs=("insi",))
def received_unknown_created(ctx: ScenarioContext) -> None:
    """A qualifiée identity unknown to the DCC is received: created qualifiée, INSi called."""
    _clause(ctx)
    answer = _receive(ctx, MARTIN, "qualifiee", "SIH^12", ins_matricule=MARTIN_INS, ins_oid=OID_TEST)
    if answer["action"] == "ask":  # a DCC that asks before creating: accept the proposed creation
        answer = ctx.dcc.call("identity_decide", input_id=answer["input_id"], choice="create", author=USER)
    ctx.check(answer["case"] in ("4a", "2b"), f"case {answer['case']} instead of 4a")
    ctx.check(answer["patient"]["identity_status"] == "qualifiee", f"not qualified: {answer}")
    calls = ctx.received("insi", "insi.request")
    ctx.check(bool(calls), "INSi was not called for the received qualifiée identity")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("INS/RAP.06.01", needs=("insi",))
def no_trust_clause(ctx: ScenarioContext) -> None:
    """Without the clause de confiance, an unknown identity is created provisoire, then récupérée by INSi, no more."""
    answer = _receive(ctx, BERNARD, "validee", "SIH^13", justificatif="passeport")
    ctx.check(answer["case"] == "8b", f"case {answer['case']} instead of 8b")
    status = answer["patient"]["identity_status"]
    ctx.check(status == "recuperee", f"status {status}, récupérée expected")
    ctx.check(bool(ctx.received("insi", "insi.request")), "INSi was not called")
    ctx.proof(1, "journal.jsonl", journal(ctx.dcc.events()))
