"""Chapter RGPD: the « INFORMATION SUR LES DONNÉES PERSONNELLES VOUS CONCERNANT » section of every FRCP and PPS
(cahier des charges 2.1.1.3): text 1 (adaptable by an establishment) followed by the INCa's text 2 (fixed)."""

from __future__ import annotations

from harness.targets import Refused
from scenarios.cda import CARE, _render
from scenarios.context import ScenarioContext
from scenarios.data import FRCP_CONTENT, snapshot, traits
from scenarios.registry import scenario

ESTABLISHMENT_A = "750000001"
ESTABLISHMENT_B = "690000002"
ADAPTED_TEXT_1 = (
    "L'Hôpital Simulé Saint-Louis et les professionnels de santé qui mettent en œuvre votre programme "
    "thérapeutique collectent des données vous concernant, couvertes par le secret médical. Pour exercer vos "
    "droits, écrivez au délégué à la protection des données de l'établissement (dpo@hopital-simule.fr)."
)
DEFAULT_TEXT_1_START = "Les établissements ou professionnels de santé"


def _validated(ctx: ScenarioContext, document: dict) -> dict:
    ctx.dcc.set_status(document["document_id"], "complete")
    ctx.dcc.set_status(document["document_id"], "valide")
    return document


def _frcp_and_pps(ctx: ScenarioContext, finess: str | None = None) -> tuple[dict, dict]:
    """A validated FRCP and PPS of a fresh patient, produced for establishment ``finess``."""
    patient = ctx.dcc.create_patient(traits())
    frcp = _validated(ctx, ctx.dcc.create_frcp(patient["patient_id"], content=FRCP_CONTENT, finess=finess))
    pps = _validated(ctx, ctx.dcc.create_pps(frcp["document_id"], content=CARE))
    return frcp, pps


@scenario("RGPD.01.01")
def section_in_every_format(ctx: ScenarioContext) -> None:
    """An FRCP and a PPS are validated and produced as CDA R2 N3, CDA R2 N1 and PDF; each carries the section."""
    frcp, pps = _frcp_and_pps(ctx)
    for kind, document in (("frcp", frcp), ("pps", pps)):
        n3 = _render(ctx, 1, document["document_id"], "cda_n3", f"{kind}-n3.xml")
        _render(ctx, 1, document["document_id"], "cda_n1", f"{kind}-n1.xml")
        _render(ctx, 2, document["document_id"], "pdf", f"{kind}.pdf")
        ctx.check(
            "INFORMATION SUR LES DONNÉES PERSONNELLES VOUS CONCERNANT".encode() in n3,
            f"{kind}: no « données personnelles » section in the CDA",
        )


@scenario("RGPD.02.01")
def text_2_fixed(ctx: ScenarioContext) -> None:
    """The settings show text 2 as not editable; changing it is refused; a PPS carries the cahier's text 2."""
    shown = ctx.dcc.call("get_rgpd_texts", finess=ESTABLISHMENT_A)
    try:
        ctx.dcc.call(
            "set_rgpd_text", finess=ESTABLISHMENT_A, text=2, content="Texte 2 réécrit.", author="admin-3c"
        )
        refusal = None
    except Refused as refused:
        refusal = refused.reason
    ctx.proof(
        1,
        "parametrage-textes.html",
        snapshot(
            "Paramétrage des textes d'information",
            [
                ("établissement", shown["finess"]),
                ("texte 1 modifiable", shown["text_1_editable"]),
                ("texte 2 modifiable", shown["text_2_editable"]),
                ("texte 2", shown["text_2"]),
                ("tentative de modification du texte 2", f"refusée ({refusal})" if refusal else "acceptée"),
            ],
        ),
    )
    _frcp, pps = _frcp_and_pps(ctx, ESTABLISHMENT_A)
    _render(ctx, 2, pps["document_id"], "cda_n3", "pps-n3.xml")
    ctx.check(refusal is not None, "the DCC accepted a change of the INCa's text 2")


@scenario("RGPD.03.01")
def text_1_per_establishment(ctx: ScenarioContext) -> None:
    """Establishment A adapts text 1; A's PPS carries it, B's PPS (no adaptation) carries the cahier's text 1."""
    ctx.dcc.call(
        "set_rgpd_text", finess=ESTABLISHMENT_A, text=1, content=ADAPTED_TEXT_1, author="dpo-etablissement-a"
    )
    _frcp_a, pps_a = _frcp_and_pps(ctx, ESTABLISHMENT_A)
    _frcp_b, pps_b = _frcp_and_pps(ctx, ESTABLISHMENT_B)
    cda_a = _render(ctx, 1, pps_a["document_id"], "cda_n3", "pps-etablissement-a.xml")
    cda_b = _render(ctx, 1, pps_b["document_id"], "cda_n3", "pps-etablissement-b.xml")
    ctx.check(ADAPTED_TEXT_1.encode() in cda_a, "A's PPS does not carry A's adapted text 1")
    ctx.check(
        DEFAULT_TEXT_1_START.encode() in cda_b and ADAPTED_TEXT_1.encode() not in cda_b,
        "B's PPS does not carry the cahier des charges' text 1",
    )
