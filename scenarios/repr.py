"""Chapter REPR: data reuse when an FRCP or a PPS is created or actualised (cahier des charges 2.1.2)."""

from __future__ import annotations

import base64
import json

from harness.cda.cisis import find_cisis_dir
from scenarios.context import ScenarioContext
from scenarios.data import journal, snapshot, traits
from scenarios.registry import scenario

CRGM_EXAMPLE = "CANCER-CR-GM_2022.01_AnalyseRealisee.xml"


def _validate(ctx: ScenarioContext, document: dict) -> dict:
    ctx.dcc.set_status(document["document_id"], "complete")
    return ctx.dcc.set_status(document["document_id"], "valide")


def _proposed(document: dict) -> list[tuple[str, str]]:
    return [
        (item["field"], f"{item['from_kind']} {item['from_document_id']}") for item in document["proposed"]
    ]


def _keep_all(ctx: ScenarioContext, document: dict) -> dict:
    return ctx.dcc.call(
        "apply_prefill", proposal_id=str(document["proposal_id"]), author="medecin-1", keep="all"
    )


def _care(categorie: str, libelle: str, date: str, confirme: bool = True) -> dict:
    return {"categorie": categorie, "libelle": libelle, "date": date, "confirme": confirme}


@scenario("REPR.01.01")
def frcp_from_latest_pps(ctx: ScenarioContext) -> None:
    """A new FRCP is offered the treatments of the patient's latest validated PPS."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validate(ctx, ctx.dcc.create_frcp(patient["patient_id"], content={"motif": "RCP initiale"}))
    pps = ctx.dcc.create_pps(frcp["document_id"], content={"traitements": "Tamoxifène 20 mg/j"})
    _validate(ctx, pps)
    new = ctx.dcc.create_frcp(patient["patient_id"], content={"motif": "Réévaluation"})
    offered = [i for i in new["proposed"] if i["from_document_id"] == pps["document_id"]]
    ctx.check(bool(offered), "the new FRCP is not offered the latest PPS")
    kept = _keep_all(ctx, new)
    content = ctx.dcc.get_document(new["document_id"])["content"]
    ctx.check(
        content.get("traitements_actuels") == "Tamoxifène 20 mg/j", "the PPS treatments were not taken over"
    )
    ctx.proof(
        1,
        "reprise-pps.html",
        snapshot(f"FRCP {new['document_id']}", [*_proposed(new), ("gardé", kept["kept"])]),
    )
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("REPR.02.01")
def frcp_from_previous_frcp(ctx: ScenarioContext) -> None:
    """A new FRCP is offered the history of the previous validated FRCP."""
    patient = ctx.dcc.create_patient(traits())
    first = ctx.dcc.create_frcp(
        patient["patient_id"],
        content={"antecedents": "HTA, appendicectomie", "diagnostic": "Carcinome canalaire"},
    )
    _validate(ctx, first)
    new = ctx.dcc.create_frcp(patient["patient_id"])
    ctx.check(
        any(i["from_document_id"] == first["document_id"] for i in new["proposed"]), "no reuse proposed"
    )
    _keep_all(ctx, new)
    content = ctx.dcc.get_document(new["document_id"])["content"]
    ctx.check(content.get("antecedents") == "HTA, appendicectomie", "the history was not taken over")
    ctx.proof(1, "reprise-frcp.html", snapshot(f"FRCP {new['document_id']}", _proposed(new)))
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("REPR.03.01")
def frcp_from_crgm_conclusion(ctx: ScenarioContext) -> None:
    """The conclusion of the CI-SIS example CR-GM fills the molecular conclusion of a new FRCP."""
    patient = ctx.dcc.create_patient(traits())
    crgm = (find_cisis_dir().examples / CRGM_EXAMPLE).read_bytes()
    received = ctx.dcc.call(
        "receive_crgm",
        patient_id=patient["patient_id"],
        author="medecin-1",
        content_base64=base64.b64encode(crgm).decode("ascii"),
        source="upload",
    )
    new = ctx.dcc.create_frcp(patient["patient_id"])
    ctx.check(
        any(i["field"] == "conclusion_moleculaire" for i in new["proposed"]),
        "the CR-GM conclusion is not offered",
    )
    _keep_all(ctx, new)
    document = ctx.dcc.get_document(new["document_id"])
    ctx.check(
        "EGFR" in document["content"].get("conclusion_moleculaire", ""), "the conclusion was not taken over"
    )
    ctx.proof(
        1, "frcp-preremplie.html", snapshot(f"FRCP {new['document_id']}", sorted(document["content"].items()))
    )
    ctx.proof(2, "frcp.json", json.dumps({"crgm": received, "frcp": document}, ensure_ascii=False, indent=1))


@scenario("REPR.05.01")
def pps_from_validated_frcp(ctx: ScenarioContext) -> None:
    """A new PPS is offered the therapeutic proposal of its validated FRCP."""
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(
        patient["patient_id"], content={"proposition_therapeutique": "Chirurgie puis RT"}
    )
    _validate(ctx, frcp)
    pps = ctx.dcc.create_pps(frcp["document_id"])
    ctx.check(
        any(i["field"] == "proposition_therapeutique" for i in pps["proposed"]),
        "the FRCP proposal is not offered",
    )
    ctx.proof(1, "reprise-pps.html", snapshot(f"PPS {pps['document_id']}", _proposed(pps)))
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("REPR.06.01")
def syntheses_only_past_confirmed_care(ctx: ScenarioContext) -> None:
    """The two syntheses list confirmed past care only, and follow a changed date."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validate(ctx, ctx.dcc.create_frcp(patient["patient_id"]))
    pps = ctx.dcc.create_pps(frcp["document_id"])
    care = [
        _care("traitement", "Chirurgie", "2024-01-10"),
        _care("traitement", "Radiothérapie", "2099-01-10"),
        _care("soin_support", "Diététicienne", "2024-02-01"),
        _care("soin_support", "Psychologue", "2024-03-01", confirme=False),
    ]
    ctx.dcc.enter(pps["document_id"], "soins_prevus", json.dumps(care, ensure_ascii=False))
    before = ctx.dcc.call("render_syntheses", document_id=pps["document_id"])
    ctx.check(
        [i["libelle"] for i in before["treatments"]] == ["Chirurgie"], "the treatments synthesis is wrong"
    )
    ctx.check(
        [i["libelle"] for i in before["supportive_care"]] == ["Diététicienne"],
        "the support synthesis is wrong",
    )
    care[1] = _care("traitement", "Radiothérapie", "2024-04-10")
    ctx.dcc.enter(pps["document_id"], "soins_prevus", json.dumps(care, ensure_ascii=False))
    after = ctx.dcc.call("render_syntheses", document_id=pps["document_id"])
    ctx.check(len(after["treatments"]) == 2, "the syntheses did not follow the changed date")
    rows = [("avant", [i["libelle"] for i in before["treatments"] + before["supportive_care"]])]
    rows.append(("après", [i["libelle"] for i in after["treatments"] + after["supportive_care"]]))
    ctx.proof(1, "syntheses.html", snapshot(f"PPS {pps['document_id']}", rows))


@scenario("REPR.07.01")
def actualised_pps_keeps_realised_care(ctx: ScenarioContext) -> None:
    """An actualised PPS takes over the realised care of the previous version."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validate(ctx, ctx.dcc.create_frcp(patient["patient_id"]))
    pps = ctx.dcc.create_pps(frcp["document_id"])
    done = [_care("traitement", "Chirurgie", "2024-01-10")]
    ctx.dcc.enter(pps["document_id"], "soins_realises", json.dumps(done, ensure_ascii=False))
    _validate(ctx, pps)
    update = ctx.dcc.new_version(pps["document_id"])
    ctx.check(
        any(i["field"] == "soins_realises" for i in update["proposed"]), "the realised care is not offered"
    )
    _keep_all(ctx, update)
    versions = [ctx.dcc.get_document(d["document_id"]) for d in (pps, update)]
    ctx.proof(1, "versions.json", json.dumps(versions, ensure_ascii=False, indent=1))


@scenario("REPR.04.01")
def keep_all_part_or_none(ctx: ScenarioContext) -> None:
    """Three FRCP offered the same reuse: the user keeps everything for the first, part for the second and
    nothing for the third; each FRCP holds exactly what was kept (manual rule: the three views are the proof)."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validate(ctx, ctx.dcc.create_frcp(patient["patient_id"], content={"motif": "RCP initiale"}))
    pps = ctx.dcc.create_pps(
        frcp["document_id"], content={"traitements": "Tamoxifène 20 mg/j", "soins_support": "Diététique"}
    )
    _validate(ctx, pps)
    rows: list[tuple[str, object]] = []
    for choice in ("all", "part", "none"):
        new = ctx.dcc.create_frcp(patient["patient_id"], content={"motif": f"Réévaluation ({choice})"})
        offered = [item["field"] for item in new["proposed"]]
        ctx.check(bool(offered), f"FRCP {new['document_id']}: nothing offered for reuse")
        keep = "all" if choice == "all" else offered[:1] if choice == "part" else []
        kept = ctx.dcc.call(
            "apply_prefill", proposal_id=str(new["proposal_id"]), author="medecin-1", keep=keep
        )
        content = ctx.dcc.get_document(new["document_id"])["content"]
        expected = offered if choice == "all" else offered[:1] if choice == "part" else []
        ctx.check(
            sorted(kept["kept"]) == sorted(expected),
            f"FRCP {new['document_id']}: kept {kept['kept']}, chose {expected}",
        )
        rows += [
            (f"FRCP {new['document_id']} — choix", choice),
            ("proposé", offered),
            ("gardé", kept["kept"]),
            ("contenu", content),
        ]
    ctx.proof(1, "trois-choix.html", snapshot("Reprise : tout, une partie, rien", rows))
