"""Who receives a document, in which format, by which channel: Figure 10 of the cahier des charges (2.3.3), as data.

Routing is a pure function of the document type, its status, the patient's identity status and the known
recipients, so each line of Figure 10 is unit-tested on its own (tests/dcc/transmissions/test_routing.py) and the
outbox only stores what it returns. Rules carried here:

- the DMP and the PDC receive only a validated document whose patient has a qualified INS (2.3.3, 2.1.1.2);
- professionals and another DCC may receive with a non-qualified identity, for continuity of care — then only the
  traits travel, never the matricule (the MSS client reads ``identity_status`` from the route);
- a validated PPS goes to the patient's MSS citoyenne mailbox ``<INS>@patient.mssante.fr`` (2.1.1.2, 2.3.5);
- an FRCP « complétée » may go to professionals and to another DCC, never to the patient, the DMP nor the PDC;
- the patient's opposition blocks DMP feeding (DMP/ALIM.08).

Formats (``Route.format``) are ``+``-joined parts: ``n1`` CDA R2 N1, ``n3`` CDA R2 N3, ``n3pdf`` CDA R2 N3 with the
PDF embedded, ``pdf`` the PDF/A-1 beside the CDA.
"""

from __future__ import annotations

from dataclasses import dataclass

from dcc import faults

EN_COURS, COMPLETE, VALIDE, CLOTURE = "en_cours", "complete", "valide", "cloture"
QUALIFIEE = "qualifiee"
IDENTITY_STATUSES = frozenset({"provisoire", "recuperee", "validee", QUALIFIEE})
PATIENT_DOMAIN = "patient.mssante.fr"
DEFAULT_PDC_ADDRESS = "pdc@pdc.unicancer.mssante.fr"

# channels
MSS_PRO, MSS_CITOYENNE, PDC, DMP, PEER_DCC, PEER_DCC_RETURN, DPI = (
    "mss_pro",
    "mss_citoyenne",
    "pdc",
    "dmp",
    "peer_dcc",
    "peer_dcc_return",
    "dpi",
)
MSS_CHANNELS = frozenset({MSS_PRO, MSS_CITOYENNE, PDC, PEER_DCC, PEER_DCC_RETURN, DPI})

# formats (Figure 10, column « Format d'échange des données »)
N1_N3_PDF = "n1+n3+pdf"  # CDA R2 N1/N3 + PDF/A-1
N1_N3PDF = "n1+n3pdf"  # CDA R2 N1 + CDA R2 N3 avec PDF intégré
N3 = "n3"  # CDA R2 N3
N3PDF = "n3pdf"  # CDA R2 N3 avec PDF intégré
N1_N3PDF_PDF = "n1+n3pdf+pdf"  # CDA R2 N1 + CDA R2 N3 avec PDF intégré + PDF/A-1
# To another DCC: the N3 it must integrate (« Le système DCC tiers doit gérer le format CDA R2 N3
# obligatoirement », 2.3.3) and the PDF/A-1; no N1, which the receiving DCC would take for a second document.
N3_PDF = "n3+pdf"
N1_PDF = "n1+pdf"  # CDA R2 N1 + PDF/A-1: no line of Figure 10 (the fault peer_frcp_sent_as_n1 uses it)

ANY = IDENTITY_STATUSES  # « Qualifié et exceptionnellement pour la continuité des soins : Provisoire, Récupéré, Validé »
QUALIFIED_ONLY = frozenset({QUALIFIEE})

FAULT_DMP_PDC_UNQUALIFIED = faults.register(
    "dmp_fed_without_qualified_ins",
    "the DMP and the PDC receive a validated document whatever the patient's identity status",
    breaks=["TRANS.02", "MSS/PDC.02", "TRANS.05"],  # TRANS.05: the DMP refuses the INS-less submission
)
FAULT_NO_PATIENT_MESSAGE = faults.register(
    "pps_validation_no_patient_message",
    "a validated PPS is not sent to the patient's MSS citoyenne mailbox",
    # no patient message to check: its content (CIT.02), « only the PPS » (CIT.03), the sendings (DOC.06 step 3)
    breaks=["MSS/CIT.01", "MSS/CIT.02", "MSS/CIT.03", "DOC.06"],
)
FAULT_COMPLETE_TO_PATIENT = faults.register(
    "frcp_complete_sent_everywhere",
    "an FRCP « complétée » is also routed to the DMP, the PDC and the patient",
    breaks=["TRANS.06", "DOC.06"],
)
FAULT_PROVISOIRE_HELD = faults.register(
    "provisoire_identity_held_back",
    "a document of a provisoire identity is not sent to its professionals (continuity of care refused)",
    breaks=["TRANS.03"],
)
FAULT_FIRST_PROFESSIONAL = faults.register(
    "first_professional_only",
    "a validated document goes to the first professional of its header only",
    breaks=["TRANS.01"],
)
FAULT_FRCP_TO_PATIENT = faults.register(
    "frcp_sent_to_patient",
    "a validated FRCP of a qualified patient is also sent to the patient's MSS citoyenne mailbox",
    breaks=["MSS/CIT.03"],
)
FAULT_NO_FRCP_TO_PDC = faults.register(
    "frcp_not_sent_to_pdc",
    "a validated FRCP is not sent to the PDC (only the PPS is)",
    breaks=["MSS/PDC.01"],
)
FAULT_OPPOSITION_IGNORED = faults.register(
    "dmp_opposition_ignored",
    "the patient's recorded opposition is never read (neither when routing nor before the DMP submission): a "
    "validated document still feeds the DMP",
    breaks=["DMP/ALIM.08"],
)
FAULT_PEER_AS_N1 = faults.register(
    "peer_frcp_sent_as_n1",
    "the FRCP « complétée » goes to the other region's DCC as CDA R2 N1 (its PDF) and PDF/A-1, without the CDA R2 N3 "
    "that DCC must integrate",
    # ECH.03: with no N3 to integrate, the other DCC never validates it nor returns it
    breaks=["ECH.01", "ECH.03"],
)
FAULT_NO_PDF_TO_PROFESSIONALS = faults.register(
    "no_pdf_to_professionals",
    "mails to professionals carry the CDA only, without the PDF/A-1",
    breaks=["MSS/CDA.05"],
)


@dataclass(frozen=True)
class Line:
    """One line of Figure 10."""

    kind: str
    statuses: frozenset[str]
    identities: frozenset[str]
    target: str  # dcc_tiers, ps, pdc, dmp, patient, dpi
    format: str
    channel: str


FIGURE_10: tuple[Line, ...] = (
    Line("FRCP", frozenset({COMPLETE}), ANY, "dcc_tiers", N3_PDF, PEER_DCC),
    Line("FRCP", frozenset({COMPLETE}), ANY, "ps", N1_N3_PDF, MSS_PRO),
    Line("FRCP", frozenset({VALIDE}), ANY, "dcc_tiers", N3_PDF, PEER_DCC_RETURN),
    Line("FRCP", frozenset({VALIDE}), ANY, "ps", N1_N3_PDF, MSS_PRO),
    Line("FRCP", frozenset({VALIDE}), QUALIFIED_ONLY, "pdc", N1_N3_PDF, PDC),
    Line("FRCP", frozenset({VALIDE}), QUALIFIED_ONLY, "dmp", N3, DMP),
    Line("PPS", frozenset({EN_COURS, COMPLETE, CLOTURE}), ANY, "ps", N1_N3_PDF, MSS_PRO),
    # Figure 10 says « CDA R2 N1 + CDA R2 N3 avec PDF intégré »; MSS/CDA.05 of the REM wants the PDF/A-1 in every
    # mail to a professional as well, so it travels beside them.
    Line("PPS", frozenset({VALIDE}), ANY, "ps", N1_N3PDF_PDF, MSS_PRO),
    Line("PPS", frozenset({VALIDE}), QUALIFIED_ONLY, "pdc", N1_N3_PDF, PDC),
    Line("PPS", frozenset({VALIDE}), QUALIFIED_ONLY, "dmp", N3PDF, DMP),
    Line("PPS", frozenset({VALIDE}), QUALIFIED_ONLY, "patient", N1_N3PDF_PDF, MSS_CITOYENNE),
)
# Seed 002 (regional DCC/DPI slides): the document gateway pushes the validated FRCP and PPS into the hospital
# record through the establishment's BAL applicative. Not a line of Figure 10; kept apart for that reason.
DPI_GATEWAY: tuple[Line, ...] = (
    Line("FRCP", frozenset({VALIDE}), ANY, "dpi", N1_N3_PDF, DPI),
    Line("PPS", frozenset({VALIDE}), ANY, "dpi", N1_N3PDF, DPI),
)


@dataclass(frozen=True)
class Recipient:
    """An addressee: an MSSanté address and where it came from (``annuaire`` for a professional found in the
    Annuaire Santé, ``exchange`` for the DCC an FRCP came from, ``configuration`` for a configured BAL)."""

    address: str
    source: str = "annuaire"
    rpps: str | None = None


@dataclass(frozen=True)
class Context:
    kind: str  # FRCP, PPS
    status: str
    identity_status: str
    ins: str | None = None  # the 15-character matricule, used only when the identity is qualifiée
    professionals: tuple[Recipient, ...] = ()  # the document's header recipients (PS)
    peer_dcc: tuple[Recipient, ...] = ()  # another DCC's BAL applicative (exchange, or return of the FRCP)
    dpi_gateways: tuple[Recipient, ...] = ()  # the establishment's document gateway (seed 002)
    pdc_address: str = DEFAULT_PDC_ADDRESS
    dmp_opposition: bool = False


@dataclass(frozen=True)
class Route:
    channel: str
    recipient: str
    format: str
    recipient_source: str
    target: str


def lines_for(kind: str, status: str, identity_status: str) -> list[Line]:
    """The lines of Figure 10 (and of the DPI gateway) that apply, before looking at who is known."""
    if identity_status not in IDENTITY_STATUSES:
        raise ValueError(
            f"identity status {identity_status!r}: one of {', '.join(sorted(IDENTITY_STATUSES))}"
        )
    applicable = []
    for line in FIGURE_10 + DPI_GATEWAY:
        if line.kind != kind:
            continue
        statuses, identities = line.statuses, line.identities
        if line.target in ("pdc", "dmp") and faults.active(FAULT_DMP_PDC_UNQUALIFIED.name):
            identities = ANY
        if (
            kind == "FRCP"
            and status == COMPLETE
            and line.target in ("pdc", "dmp", "patient")
            and faults.active(FAULT_COMPLETE_TO_PATIENT.name)
        ):
            statuses = statuses | {COMPLETE}
        if line.target == "pdc" and kind == "FRCP" and faults.active(FAULT_NO_FRCP_TO_PDC.name):
            continue
        if status in statuses and identity_status in identities:
            applicable.append(line)
    if kind == "FRCP" and status == VALIDE and faults.active(FAULT_FRCP_TO_PATIENT.name):
        applicable.append(
            Line("FRCP", frozenset({VALIDE}), QUALIFIED_ONLY, "patient", N1_N3PDF_PDF, MSS_CITOYENNE)
        )
    if kind == "FRCP" and status == COMPLETE and faults.active(FAULT_COMPLETE_TO_PATIENT.name):
        applicable.append(Line("FRCP", frozenset({COMPLETE}), ANY, "patient", N1_N3_PDF, MSS_CITOYENNE))
    return applicable


def patient_address(ins: str) -> str:
    return f"{ins.lower()}@{PATIENT_DOMAIN}"


def route(context: Context) -> list[Route]:
    """Every (channel, recipient, format) the document goes to, in Figure 10 order, without duplicates."""
    routes: list[Route] = []
    qualified = context.identity_status == QUALIFIEE and bool(context.ins)
    for line in lines_for(context.kind, context.status, context.identity_status):
        if line.target == "ps":
            professionals, format = context.professionals, line.format
            if context.identity_status == "provisoire" and faults.active(FAULT_PROVISOIRE_HELD.name):
                professionals = ()
            if context.status == VALIDE and faults.active(FAULT_FIRST_PROFESSIONAL.name):
                professionals = professionals[:1]
            if faults.active(FAULT_NO_PDF_TO_PROFESSIONALS.name):
                format = "+".join(p for p in format.split("+") if p != "pdf")
            routes += [Route(line.channel, r.address, format, r.source, "ps") for r in professionals]
        elif line.target == "dcc_tiers":
            format = line.format
            if line.channel == PEER_DCC and context.peer_dcc and faults.active(FAULT_PEER_AS_N1.name):
                format = N1_PDF
            routes += [
                Route(line.channel, r.address, format, r.source, "dcc_tiers") for r in context.peer_dcc
            ]
        elif line.target == "dpi":
            routes += [
                Route(line.channel, r.address, line.format, r.source, "dpi") for r in context.dpi_gateways
            ]
        elif line.target == "pdc":
            routes.append(Route(line.channel, context.pdc_address, line.format, "configuration", "pdc"))
        elif line.target == "dmp":
            if context.dmp_opposition and not faults.active(FAULT_OPPOSITION_IGNORED.name):
                continue  # DMP/ALIM.08: the patient's opposition blocks feeding
            routes.append(Route(line.channel, context.ins or "sans-ins", line.format, "ins", "dmp"))
        elif line.target == "patient":
            if not qualified:
                continue  # the patient's address is the INS matricule: no qualified INS, no address
            if context.kind == "PPS" and faults.active(FAULT_NO_PATIENT_MESSAGE.name):
                continue
            routes.append(
                Route(line.channel, patient_address(context.ins or ""), line.format, "ins", "patient")
            )
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in routes:
        if (r.channel, r.recipient.lower()) not in seen:
            seen.add((r.channel, r.recipient.lower()))
            unique.append(r)
    return unique
