"""Chapters DMP (alimentation, invisibilité de la FRCP, consultation, accès: cahier des charges 2.3.4), BDT.03 (the
attachments go to the DMP with their document) and REPR.08 (the Ségur documents of the DMP are read when an FRCP
is opened). The DMP is the simulator: each scenario files for a patient of its own (an INS of the DMP's test set
made for it), so what other scenarios of the run filed never changes what this one sees."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from harness.simulators.faults import Fault, FaultMode
from scenarios._auth_steps import qualified_patient
from scenarios.context import ScenarioContext
from scenarios.data import AUTHOR, FRCP_CONTENT, PPS_CONTENT, snapshot, traits
from scenarios.registry import scenario

USER = "medecin-1"
OID_INS_TEST = "1.2.250.1.213.1.4.10"
WAIT_S = 3.0  # bound of an outbox run (retries are 0.05 s apart in a recette run)
FRCP_TYPE, PPS_TYPE = "34794-8", "18776-5"
VSM = (
    '<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
    '<code code="60591-5" codeSystem="2.16.840.1.113883.6.1" displayName="Synthèse"/>'
    "<title>Volet de synthèse médicale — médecin traitant Dr DURAND, comorbidités : HTA, diabète de type 2"
    "</title></ClinicalDocument>"
)


def new_ins() -> str:
    """A matricule INS of the test set no other scenario (of this run or of an earlier one sharing the DMP) uses."""
    body = f"2{secrets.randbelow(100):02d}{secrets.randbelow(12) + 1:02d}75{secrets.randbelow(10**6):06d}"
    return body + f"{97 - int(body) % 97:02d}"


def dmp_patient(ctx: ScenarioContext, opposition: bool = False, consent: bool = True) -> dict[str, Any]:
    """A patient qualified here and known to the DMP under its INS."""
    ins = new_ins()
    ctx.simulator("dmp").add_patient(ins, opposition=opposition, consent=consent)
    return qualified_patient(ctx, traits(), (ins, OID_INS_TEST))


def validated_frcp(ctx: ScenarioContext, patient_id: str) -> dict[str, Any]:
    frcp = ctx.dcc.create_frcp(patient_id, content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    return ctx.dcc.set_status(frcp["document_id"], "valide")


def validated_pps(ctx: ScenarioContext, frcp_id: str) -> dict[str, Any]:
    pps = ctx.dcc.create_pps(frcp_id, content=PPS_CONTENT)
    ctx.dcc.set_status(pps["document_id"], "complete")
    return ctx.dcc.set_status(pps["document_id"], "valide")


def new_pps_version(ctx: ScenarioContext, pps_id: str) -> dict[str, Any]:
    version = ctx.dcc.new_version(pps_id)
    ctx.dcc.set_status(version["document_id"], "complete")
    return ctx.dcc.set_status(version["document_id"], "valide")


def outbox(ctx: ScenarioContext) -> dict[str, Any]:
    return ctx.dcc.call("run_outbox", wait_s=WAIT_S)


def submissions(ctx: ScenarioContext) -> list[Any]:
    return ctx.received("dmp", "dmp.provide_and_register")


def itI41_trace(ctx: ScenarioContext, proof: int, name: str = "iti-41.txt") -> None:
    """The ITI-41 exchanges the DMP received (metadata as it read them, then the SOAP request and its answer)."""
    parts = []
    for event in submissions(ctx):
        parts.append(json.dumps(event.data, ensure_ascii=False, indent=2, sort_keys=True))
        for path in event.artifacts:
            content = ctx.simulators.evidence.read(path)
            parts.append(f"--- {path}\n" + content.decode("utf-8", "replace"))
    ctx.proof(proof, name, "\n".join(parts) or "aucune transaction ITI-41")


def filed_cda(ctx: ScenarioContext, proof: int) -> None:
    """The CDA documents the DMP holds from this scenario's submissions."""
    wanted = {e.data["unique_id"] for e in submissions(ctx) if e.data.get("result") == "success"}
    for entry in ctx.simulator("dmp").entries:
        if entry.unique_id in wanted:
            name = f"{entry.type_code}-{entry.unique_id.rpartition('^')[2]}.xml"
            ctx.proof(proof, name, entry.content)


def metadata(ctx: ScenarioContext) -> list[dict[str, Any]]:
    return [e.data for e in submissions(ctx)]


@scenario("DMP/ALIM.01.01", needs=("dmp",))
def filed_at_validation(ctx: ScenarioContext) -> None:
    """An FRCP then a PPS validated for a qualified patient reach the DMP without any other action."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    pps = validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    filed = {d["unique_id"] for d in metadata(ctx) if d["result"] == "success"}
    ctx.check(frcp["document_id"] in filed, f"the FRCP {frcp['document_id']} is not in the DMP: {filed}")
    ctx.check(pps["document_id"] in filed, f"the PPS {pps['document_id']} is not in the DMP: {filed}")
    itI41_trace(ctx, 1)
    filed_cda(ctx, 2)


@scenario("DMP/ALIM.02.01", needs=("dmp",))
def frcp_invisible_without_pps(ctx: ScenarioContext) -> None:
    """A validated FRCP without its PPS is filed with confidentialityCode INVISIBLE_PATIENT."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    outbox(ctx)
    filed = [d for d in metadata(ctx) if d["unique_id"] == frcp["document_id"]]
    ctx.check(bool(filed), "the FRCP did not reach the DMP")
    itI41_trace(ctx, 1)


@scenario("DMP/ALIM.03.01", needs=("dmp",))
def pps_visible(ctx: ScenarioContext) -> None:
    """The PPS is filed without INVISIBLE_PATIENT."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    pps = validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    ctx.check(
        any(d["unique_id"] == pps["document_id"] for d in metadata(ctx)), "the PPS did not reach the DMP"
    )
    itI41_trace(ctx, 1)


@scenario("DMP/ALIM.04.01", needs=("dmp",))
def frcp_made_visible(ctx: ScenarioContext) -> None:
    """FRCP filed invisible; its PPS validated; the FRCP is replaced (RPLC) by a visible entry."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    outbox(ctx)
    validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    replaced = [d for d in metadata(ctx) if d["type_code"] == FRCP_TYPE and d.get("replaces")]
    ctx.check(bool(replaced), "the invisible FRCP was not replaced by a visible one")
    itI41_trace(ctx, 1)


@scenario("DMP/ALIM.04.02", needs=("dmp",))
def visible_frcp_not_filed_again(ctx: ScenarioContext) -> None:
    """FRCP and PPS filed (FRCP made visible); an update of the PPS files no FRCP again."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    outbox(ctx)
    pps = validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    before = len([d for d in metadata(ctx) if d["type_code"] == FRCP_TYPE])
    new_pps_version(ctx, pps["document_id"])
    outbox(ctx)
    after = len([d for d in metadata(ctx) if d["type_code"] == FRCP_TYPE])
    ctx.check(after == before, f"the FRCP was filed again after the PPS update ({before} → {after})")
    itI41_trace(ctx, 1)


@scenario("DMP/ALIM.05.01", needs=("dmp",))
def absent_frcp_filed_visible(ctx: ScenarioContext) -> None:
    """The FRCP's submission fails (DMP unavailable) and is cancelled; at the PPS, the FRCP goes visible."""
    patient = dmp_patient(ctx)
    dmp = ctx.simulator("dmp")
    dmp.faults.inject(Fault(FaultMode.ERROR_5XX, "provide_and_register", times=None))
    try:
        frcp = validated_frcp(ctx, patient["patient_id"])
        ctx.dcc.call("run_outbox", wait_s=0)
    finally:
        dmp.faults.clear()
    jobs = ctx.dcc.call("list_transmissions", document_id=frcp["document_id"])["transmissions"]
    for job in jobs:
        if job["channel"] == "dmp" and job["state"] == "pending":
            ctx.dcc.call("cancel_transmission", transmission_id=job["transmission_id"], author=USER)
    validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    visible = [
        d
        for d in metadata(ctx)
        if d["type_code"] == FRCP_TYPE and d["result"] == "success" and not d["invisible_patient"]
    ]
    ctx.check(bool(visible), "the FRCP absent from the DMP was not filed visible with the PPS")
    itI41_trace(ctx, 1)


@scenario("DMP/ALIM.06.01", needs=("dmp",))
def new_pps_version_replaces(ctx: ScenarioContext) -> None:
    """A PPS then its update: the second submission replaces the first (RPLC, same setId)."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    pps = validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    new_pps_version(ctx, pps["document_id"])
    outbox(ctx)
    pps_filed = [d for d in metadata(ctx) if d["type_code"] == PPS_TYPE and d["result"] == "success"]
    ctx.check(
        len(pps_filed) == 2 and pps_filed[1].get("replaces") == pps_filed[0]["unique_id"],
        f"the second PPS did not replace the first: {[(d['unique_id'], d.get('replaces')) for d in pps_filed]}",
    )
    itI41_trace(ctx, 1)


@scenario("DMP/ALIM.07.01", needs=("dmp",))
def manual_share(ctx: ScenarioContext) -> None:
    """A PPS validated while the DMP is down is shared by hand once it is back."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    outbox(ctx)
    dmp = ctx.simulator("dmp")
    dmp.faults.inject(Fault(FaultMode.ERROR_5XX, "provide_and_register", times=None))
    try:
        pps = validated_pps(ctx, frcp["document_id"])
        ctx.dcc.call("run_outbox", wait_s=0)
    finally:
        dmp.faults.clear()
    answer = ctx.dcc.call("share_to_dmp", document_id=pps["document_id"], author=USER)
    ctx.proof(
        1,
        "partage-manuel.html",
        snapshot(
            "Partage manuel au DMP",
            [("Document", pps["document_id"]), ("Transmission", answer["transmission"])],
        ),
    )
    outbox(ctx)
    ctx.check(
        any(d["unique_id"] == pps["document_id"] and d["result"] == "success" for d in metadata(ctx)),
        "the manual share did not file the PPS",
    )
    itI41_trace(ctx, 2)


@scenario("DMP/ALIM.08.01", needs=("dmp",))
def opposition_blocks(ctx: ScenarioContext) -> None:
    """The patient's opposition is recorded; a PPS validated afterwards never reaches the DMP."""
    patient = dmp_patient(ctx)
    ctx.dcc.call("record_dmp_choice", patient_id=patient["patient_id"], author=USER, opposition=True)
    frcp = validated_frcp(ctx, patient["patient_id"])
    validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    ctx.check(not submissions(ctx), f"the DMP was fed despite the opposition: {metadata(ctx)}")
    ctx.proof(1, "releve-dmp.json", json.dumps(metadata(ctx), ensure_ascii=False, indent=2))
    ctx.proof(
        2,
        "opposition.html",
        snapshot(
            "Opposition du patient à l'alimentation du DMP",
            [("Patient", patient["patient_id"]), ("Opposition", "enregistrée")],
        ),
    )


@scenario("DMP/ALIM.09.01", needs=("dmp",))
def xds_metadata(ctx: ScenarioContext) -> None:
    """typeCode and formatCode of the FRCP and of the PPS as the DMP read them."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    validated_pps(ctx, frcp["document_id"])
    outbox(ctx)
    ctx.check(
        {d["type_code"] for d in metadata(ctx)} == {FRCP_TYPE, PPS_TYPE},
        "the FRCP and the PPS were not filed",
    )
    itI41_trace(ctx, 1)


# -- consultation ------------------------------------------------------------------------------------------------


def _offered(answer: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(o["kind"], f"{o['unique_id']} ({o['source']})") for o in answer["offered"]] or [
        ("—", "aucune donnée proposée")
    ]


def _find_and_retrieve(ctx: ScenarioContext, proof: int) -> None:
    parts = []
    for event in ctx.received("dmp"):
        if event.type in ("dmp.stored_query", "dmp.retrieve"):
            parts.append(f"{event.type} " + json.dumps(event.data, ensure_ascii=False, sort_keys=True))
            for path in event.artifacts:
                parts.append(ctx.simulators.evidence.read(path).decode("utf-8", "replace"))
    ctx.proof(proof, "find-retrieve.txt", "\n".join(parts) or "aucune requête au DMP")


@scenario("DMP/CONS.01.01", needs=("dmp",))
def consultation_before_update(ctx: ScenarioContext) -> None:
    """A PPS more recent than the DCC's is in the DMP; updating the PPS, the DCC finds it and offers its data."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    pps = validated_pps(ctx, frcp["document_id"])
    ctx.simulator("dmp").seed(
        patient["ins_matricule"],
        PPS_TYPE,
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>PPS actualis\xc3\xa9 (autre DCC)</title></ClinicalDocument>',
        "urn:asip:ci-sis:pps-cancer:2017",
    )
    version = ctx.dcc.new_version(pps["document_id"])
    answer = ctx.dcc.call("open_document", document_id=version["document_id"], author=USER)
    ctx.check(bool(answer["offered"]), "nothing from the DMP was offered")
    _find_and_retrieve(ctx, 1)
    ctx.proof(2, "donnees-proposees.html", snapshot("Données proposées du DMP", _offered(answer)))


@scenario("DMP/CONS.02.01", needs=("dmp",))
def consultation_without_consent(ctx: ScenarioContext) -> None:
    """Once the patient withdrew consent, a new FRCP uses what the DCC kept from an earlier consultation."""
    patient = dmp_patient(ctx)
    ctx.simulator("dmp").seed(
        patient["ins_matricule"],
        PPS_TYPE,
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>PPS (autre DCC)</title></ClinicalDocument>',
        "urn:asip:ci-sis:pps-cancer:2017",
    )
    first = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.call("open_document", document_id=first["document_id"], author=USER)
    ctx.dcc.call(
        "record_dmp_choice", patient_id=patient["patient_id"], author=USER, opposition=False, consent=False
    )
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    answer = ctx.dcc.call("open_document", document_id=frcp["document_id"], author=USER)
    ctx.check(
        bool(answer["offered"]) and all(o["source"] == "dmp_cache" for o in answer["offered"]),
        f"the local copy of the DMP was not used: {answer['offered']}",
    )
    ctx.proof(
        1,
        "donnees-memorisees.html",
        snapshot("FRCP sans consentement : informations du DMP mémorisées", _offered(answer)),
    )


@scenario("DMP/CONS.03.01", needs=("dmp",))
def background_retrieval(ctx: ScenarioContext) -> None:
    """Opening an FRCP retrieves the DMP's documents with no navigation by the user (manual rule: the proof is
    the sequence of what the DCC did on that single action)."""
    patient = dmp_patient(ctx)
    ctx.simulator("dmp").seed(
        patient["ins_matricule"],
        PPS_TYPE,
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>PPS (autre DCC)</title></ClinicalDocument>',
        "urn:asip:ci-sis:pps-cancer:2017",
    )
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    answer = ctx.dcc.call("open_document", document_id=frcp["document_id"], author=USER)
    rows = [("Action de l'utilisateur", "ouvrir la FRCP (une seule action)")]
    rows += [(e.type, json.dumps(e.data, ensure_ascii=False)) for e in ctx.received("dmp")]
    rows += _offered(answer)
    ctx.proof(1, "recuperation-arriere-plan.html", snapshot("Récupération en arrière-plan", rows))


@scenario("DMP/ACC.01.01", needs=("dmp",))
def dmp_access_settings(ctx: ScenarioContext) -> None:
    """The DMP access settings and the token each transaction carried (the written commitment is the editor's)."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    outbox(ctx)
    ctx.check(bool(submissions(ctx)), "no DMP transaction to show")
    rows = [("Authentification", "jeton Bearer par transaction (espace de confiance PSC), aucun mode AIR")]
    rows += [
        (d["unique_id"], f"token_kind={d.get('token_kind')} actor_rpps={d.get('actor_rpps')}")
        for d in metadata(ctx)
    ]
    rows.append(("FRCP", frcp["document_id"]))
    ctx.proof(1, "parametrage-acces-dmp.html", snapshot("Paramétrage des accès au DMP", rows))


# -- BDT.03, REPR.08 -------------------------------------------------------------------------------------------


@scenario("BDT.03.01", needs=("dmp",))
def attachment_goes_to_dmp(ctx: ScenarioContext) -> None:
    """A PDF of side effects joined to a PPS validated for a qualified patient is in its CDA and in the DMP."""
    patient = dmp_patient(ctx)
    frcp = validated_frcp(ctx, patient["patient_id"])
    pps = ctx.dcc.create_pps(frcp["document_id"], content={**PPS_CONTENT, "auteur": AUTHOR})
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    ctx.dcc.add_attachment(
        pps["document_id"], "Effets secondaires", "application/pdf", base64.b64encode(pdf).decode()
    )
    ctx.dcc.set_status(pps["document_id"], "complete")
    ctx.dcc.set_status(pps["document_id"], "valide")
    outbox(ctx)
    filed = [d for d in metadata(ctx) if d["unique_id"] == pps["document_id"] and d["result"] == "success"]
    ctx.check(
        bool(filed) and filed[0]["attachments"] >= 1, f"the PPS reached the DMP without its PDF: {filed}"
    )
    for entry in ctx.simulator("dmp").entries:
        if entry.unique_id == pps["document_id"]:
            ctx.proof(1, "pps-avec-piece-jointe.xml", entry.content)
    itI41_trace(ctx, 2, "soumission-dmp.txt")


@scenario("REPR.08.01", needs=("dmp",))
def segur_documents_read(ctx: ScenarioContext) -> None:
    """A VSM in the DMP; opening an FRCP, the DCC searches the DMP and offers what the VSM holds."""
    patient = dmp_patient(ctx)
    ctx.simulator("dmp").seed(patient["ins_matricule"], "60591-5", VSM.encode(), "urn:asip:ci-sis:vsm:2012")
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    answer = ctx.dcc.call("open_document", document_id=frcp["document_id"], author=USER)
    ctx.check(any(o["kind"] == "VSM" for o in answer["offered"]), f"the VSM was not offered: {answer}")
    _find_and_retrieve(ctx, 1)
    ctx.proof(
        2, "informations-proposees.html", snapshot("Informations proposées (VSM du DMP)", _offered(answer))
    )
