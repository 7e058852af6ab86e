"""Chapter DOC: production of the documents, their statuses and versions (cahier des charges 2.1.1–2.1.2)."""

from __future__ import annotations

import itertools

from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, PPS_CONTENT, journal, snapshot, traits
from scenarios.registry import scenario


def _validated_frcp(ctx: ScenarioContext, patient_id: str) -> dict:
    frcp = ctx.dcc.create_frcp(patient_id, content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    return ctx.dcc.set_status(frcp["document_id"], "valide")


@scenario("DOC.01.01")
def frcp_statuses(ctx: ScenarioContext) -> None:
    """FRCP en cours → complété → validé, and the way back refused."""
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    steps = [("créée", frcp["status"])]
    ctx.check(frcp["status"] == "en_cours", f"a new FRCP is « {frcp['status']} », not « en cours »")
    for status in ("complete", "valide"):
        steps.append((status, ctx.dcc.set_status(frcp["document_id"], status)["status"]))
    reason = ctx.refused(ctx.dcc.set_status, frcp["document_id"], "en_cours")
    steps.append(("retour en cours refusé", reason))
    ctx.proof(1, "statuts-frcp.html", snapshot(f"FRCP {frcp['document_id']}", steps))
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("DOC.02.01")
def pps_statuses(ctx: ScenarioContext) -> None:
    """PPS from a validated FRCP, up to clôturé; closing a PPS still « en cours » is refused."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validated_frcp(ctx, patient["patient_id"])
    pps = ctx.dcc.create_pps(frcp["document_id"], content=PPS_CONTENT)
    steps = [("créé", pps["status"])]
    for status in ("complete", "valide", "cloture"):
        steps.append((status, ctx.dcc.set_status(pps["document_id"], status)["status"]))
    second = ctx.dcc.create_pps(frcp["document_id"], content=PPS_CONTENT)
    steps.append(
        (
            "second PPS clôturé en cours : refus",
            ctx.refused(ctx.dcc.set_status, second["document_id"], "cloture"),
        )
    )
    ctx.proof(1, "statuts-pps.html", snapshot(f"PPS {pps['document_id']}", steps))
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("DOC.03.01")
def validated_pps_changes_by_new_version(ctx: ScenarioContext) -> None:
    """A validated PPS cannot be edited; its update is a new version of the same set."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validated_frcp(ctx, patient["patient_id"])
    pps = ctx.dcc.create_pps(frcp["document_id"], content=PPS_CONTENT)
    ctx.dcc.set_status(pps["document_id"], "complete")
    ctx.dcc.set_status(pps["document_id"], "valide")
    reason = ctx.refused(ctx.dcc.enter, pps["document_id"], "traitements", "modification directe")
    update = ctx.dcc.new_version(pps["document_id"])
    ctx.check(update["set_id"] == pps["set_id"], "the new version does not keep the setId")
    ctx.check(update["version"] == pps["version"] + 1, "the version number is not incremented")
    ctx.proof(
        1,
        "refus-et-nouvelle-version.html",
        snapshot(
            "PPS validé puis actualisé",
            [
                ("modification directe", f"refusée ({reason})"),
                ("version 1", pps["document_id"]),
                ("version 2", update["document_id"]),
                ("setId", update["set_id"]),
            ],
        ),
    )


@scenario("DOC.05.01")
def pps_needs_validated_frcp(ctx: ScenarioContext) -> None:
    """A PPS is refused from an FRCP « complété » and created once the FRCP is validated."""
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "complete")
    reason = ctx.refused(ctx.dcc.create_pps, frcp["document_id"], content=PPS_CONTENT)
    ctx.dcc.set_status(frcp["document_id"], "valide")
    pps = ctx.dcc.create_pps(frcp["document_id"], content=PPS_CONTENT)
    ctx.check(pps.get("frcp_id") == frcp["document_id"], "the PPS is not linked to its FRCP")
    ctx.proof(
        1,
        "refus-puis-creation.html",
        snapshot(
            "PPS et FRCP de référence",
            [
                ("création depuis FRCP complétée", f"refusée ({reason})"),
                ("PPS créé", pps["document_id"]),
                ("FRCP de référence", pps["frcp_id"]),
            ],
        ),
    )
    ctx.proof(2, "journal.jsonl", journal(ctx.dcc.events()))


@scenario("DOC.07.01")
def manual_entries_traced(ctx: ScenarioContext) -> None:
    """Two operators enter data in an FRCP; each entry carries its operator."""
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], author="medecin-1")
    ctx.dcc.enter(frcp["document_id"], "motif", "Avis diagnostique", author="medecin-1")
    ctx.dcc.enter(frcp["document_id"], "proposition", "Chimiothérapie néoadjuvante", author="medecin-2")
    entries = [e["data"] for e in ctx.dcc.events() if e["type"] == "document.field_entered"]
    ctx.check(
        {e.get("author") for e in entries} == {"medecin-1", "medecin-2"}, "the operators are not both traced"
    )
    ctx.proof(
        1,
        "historique-saisies.html",
        snapshot("Historique des saisies", [(e["field"], e.get("author")) for e in entries]),
    )
    audit = [e for e in ctx.dcc.events() if e["type"] == "audit.recorded"]
    ctx.proof(2, "journal-audit.jsonl", journal(audit))


@scenario("DOC.08.01")
def audit_of_every_change(ctx: ScenarioContext) -> None:
    """Status changes of documents and identities are in the hash-chained audit log, which the DCC verifies."""
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"])
    ctx.dcc.set_status(frcp["document_id"], "complete")
    ctx.dcc.set_status(frcp["document_id"], "valide")
    exported = ctx.dcc.export_audit()
    entries = exported["entries"]
    breaks = [b["entry_id"] for a, b in itertools.pairwise(entries) if b["previous_hash"] != a["hash"]]
    ctx.check(not breaks, f"the exported audit log is not chained at entries {breaks[:5]}")
    ctx.check(not exported["problems"], f"the DCC's own check finds problems: {exported['problems'][:3]}")
    mine = [e for e in entries if e["entity_id"] == frcp["document_id"]]
    ctx.check(
        sum(e["action"] == "document.status_changed" for e in mine) >= 2,
        "the FRCP's two status changes are not both in the exported audit log",
    )
    ctx.proof(1, "journal-audit.jsonl", journal(entries))
    ctx.proof(
        2,
        "verification-chainage.html",
        snapshot(
            "Vérification du chaînage du journal d'audit",
            [
                ("entrées", len(entries)),
                ("ruptures de chaînage", breaks),
                ("contrôle du DCC", exported["problems"]),
            ],
        ),
    )


@scenario("DOC.09.01")
def corrected_frcp_is_a_new_version(ctx: ScenarioContext) -> None:
    """A validated FRCP is corrected by a new version, validated in its turn; both versions remain."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validated_frcp(ctx, patient["patient_id"])
    correction = ctx.dcc.new_version(frcp["document_id"])
    ctx.dcc.enter(correction["document_id"], "medecin_referent", "Dr MARTIN (orthographe corrigée)")
    ctx.dcc.set_status(correction["document_id"], "complete")
    ctx.dcc.set_status(correction["document_id"], "valide")
    first = ctx.dcc.get_document(frcp["document_id"])
    ctx.check(first["status"] == "valide", "the first version did not stay validated")
    ctx.proof(
        1,
        "deux-versions.html",
        snapshot(
            "Les deux versions de la FRCP",
            [
                (f"version {first['version']}", first["status"]),
                (
                    f"version {correction['version']}",
                    ctx.dcc.get_document(correction["document_id"])["status"],
                ),
            ],
        ),
    )
