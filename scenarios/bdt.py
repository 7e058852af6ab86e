"""Chapter BDT: the therapeutic data bank and attachments (cahier des charges 2.1.5.1)."""

from __future__ import annotations

import base64

from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, snapshot, traits
from scenarios.registry import scenario


@scenario("BDT.01.01")
def proposal_from_the_bank(ctx: ScenarioContext) -> None:
    """A protocol added to the bank is selected as the therapeutic proposal of an FRCP."""
    entry = ctx.dcc.call(
        "bdt_create_entry",
        kind="protocole",
        label="FEC 100 × 3 puis docétaxel × 3",
        author="admin-3c",
        code="FEC-D",
    )
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    ctx.dcc.call(
        "bdt_enter",
        document_id=frcp["document_id"],
        field="proposition_therapeutique",
        entry_id=entry["entry_id"],
        author="medecin-1",
    )
    content = ctx.dcc.get_document(frcp["document_id"])["content"]
    ctx.check(
        entry["label"] in str(content.get("proposition_therapeutique", "")),
        "the FRCP does not carry the bank entry",
    )
    ctx.proof(
        1,
        "proposition-depuis-la-banque.html",
        snapshot(
            "Banque de données thérapeutiques → FRCP",
            [
                ("entrée créée", entry),
                ("proposition thérapeutique de la FRCP", content.get("proposition_therapeutique")),
            ],
        ),
    )


@scenario("BDT.02.01")
def favourites_are_per_user(ctx: ScenarioContext) -> None:
    """A favourite comes first for its user and not for another."""
    first = ctx.dcc.call("bdt_create_entry", kind="protocole", label="AC 60 × 4", author="admin-3c")
    favourite = ctx.dcc.call(
        "bdt_create_entry", kind="protocole", label="Trastuzumab 1 an", author="admin-3c"
    )
    ctx.dcc.call("bdt_add_favorite", user_id="medecin-1", entry_id=favourite["entry_id"])
    mine = ctx.dcc.call("bdt_list", user_id="medecin-1")["entries"]
    other = ctx.dcc.call("bdt_list", user_id="medecin-2")["entries"]
    ctx.check(
        mine and mine[0]["entry_id"] == favourite["entry_id"], "the favourite is not first for its user"
    )
    ctx.check(not any(e["favorite"] for e in other), "another user sees the favourite as theirs")
    ctx.check(first["entry_id"] in {e["entry_id"] for e in other}, "the other user does not see the bank")
    ctx.proof(
        1,
        "listes-des-deux-utilisateurs.html",
        snapshot(
            "Banque vue par deux utilisateurs",
            [
                ("medecin-1", [e["label"] + (" ★" if e["favorite"] else "") for e in mine]),
                ("medecin-2", [e["label"] + (" ★" if e["favorite"] else "") for e in other]),
            ],
        ),
    )


@scenario("BDT.04.01")
def forbidden_attachments_are_refused(ctx: ScenarioContext) -> None:
    """An executable and an oversized file are refused and the document is unchanged."""
    patient = ctx.dcc.create_patient(traits())
    frcp = ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT)
    before = ctx.dcc.get_document(frcp["document_id"])
    executable = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 60).decode()
    reasons = [
        ctx.refused(
            ctx.dcc.add_attachment, frcp["document_id"], "outil.exe", "application/x-msdownload", executable
        )
    ]
    oversized = base64.b64encode(b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)).decode()
    reasons.append(
        ctx.refused(ctx.dcc.add_attachment, frcp["document_id"], "scanner.pdf", "application/pdf", oversized)
    )
    after = ctx.dcc.get_document(frcp["document_id"])
    ctx.check(after == before, "the refusals changed the document")
    ctx.proof(
        1,
        "refus-pieces-jointes.html",
        snapshot(
            "Pièces jointes refusées",
            [
                ("exécutable", reasons[0]),
                ("fichier trop volumineux", reasons[1]),
                ("document inchangé", after == before),
            ],
        ),
    )
    rejected = [e for e in ctx.dcc.events() if e["type"] == "attachment.rejected"]
    ctx.check(len(rejected) == 2, f"{len(rejected)} attachment.rejected events instead of 2")
