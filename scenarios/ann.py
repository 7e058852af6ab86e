"""Chapter ANN: the PS contact directory from the Annuaire Santé (cahier des charges 2.1.5.2)."""

from __future__ import annotations

import json

from scenarios.context import ScenarioContext
from scenarios.data import snapshot
from scenarios.registry import scenario
from scenarios.resources_data import b64, mailbox_file, people_file

MALFORMED = "8|1234|ceci n'est pas une ligne de l'extraction"


@scenario("ANN.01.01")
def extraction_with_a_malformed_line(ctx: ScenarioContext) -> None:
    """The public extraction is integrated; its malformed line is reported with its number."""
    name, text = people_file(extra_lines=(MALFORMED,))
    report = ctx.dcc.call(
        "directory_import", file=name, content_base64=b64(text), author="admin", expected_rejected=1
    )
    malformed_line = len(text.splitlines())
    ctx.check(report["imported"] > 0, "nothing was imported")
    ctx.check(
        [r["line"] for r in report["rejects"]] == [malformed_line],
        f"rejected lines {report['rejects']}, expected [{malformed_line}]",
    )
    ctx.proof(1, "rapport-integration.json", json.dumps(report, ensure_ascii=False, indent=2))
    found = ctx.dcc.call("directory_search", user="admin", name="MARTIN")["contacts"]
    ctx.check(bool(found), "an imported professional cannot be found")
    ctx.proof(
        2,
        "annuaire-apres-integration.html",
        snapshot("Annuaire après intégration", [(c.get("rpps") or c.get("idnat"), c) for c in found]),
    )


@scenario("ANN.02.01", needs=("annuaire",))
def rpps_search_through_fhir(ctx: ScenarioContext) -> None:
    """A search by RPPS goes to the Annuaire Santé FHIR API."""
    answer = ctx.dcc.call("directory_search_rpps", rpps="10000000001", user="medecin-1")
    requests = ctx.received("annuaire", "annuaire.search")
    ctx.check(bool(requests), "the Annuaire Santé FHIR API received no request")
    ctx.check(bool(answer["contacts"]), f"no professional found ({answer.get('error')})")
    ctx.proof(1, "requetes-fhir.json", json.dumps([e.data for e in requests], ensure_ascii=False, indent=2))
    ctx.proof(
        2,
        "resultat.html",
        snapshot(
            "Recherche par RPPS 10000000001", [("source", answer["source"]), ("résultat", answer["contacts"])]
        ),
    )


@scenario("ANN.04.01")
def reimport_updates_without_duplicates(ctx: ScenarioContext) -> None:
    """A second extraction (both files) where a professional's MSSanté address changed updates the contact, with
    no duplicate."""
    reports = []
    for changed in (None, "claire.martin@nouvel-hopital.mssante.fr"):
        for name, text in (people_file(), mailbox_file(changed_address=changed)):
            reports.append(
                ctx.dcc.call("directory_import", file=name, content_base64=b64(text), author="admin")
            )
    found = ctx.dcc.call("directory_search", user="admin", mss="claire.martin@nouvel-hopital.mssante.fr")[
        "contacts"
    ]
    ctx.check(len(found) == 1, f"{len(found)} contacts with the new address, expected 1")
    martins = ctx.dcc.call("directory_search", user="admin", name="MARTIN")["contacts"]
    ctx.check(len(martins) == 1, f"{len(martins)} contacts named MARTIN after the re-import, expected 1")
    ctx.check(all(r.get("duplicates", 0) == 0 for r in reports), "an import reports duplicates")
    ctx.proof(1, "rapports-integration.json", json.dumps(reports, ensure_ascii=False, indent=2))
