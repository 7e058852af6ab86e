"""The rapprochement of an identity reaching the DCC with its local identities: which case of the identity tables
applies (cahier des charges §2.3.2.1 cases 1a–5e, §2.3.2.2 cases 6a–7, §2.3.2.3 cases 8a–8b) and what follows.

A pure function (``decide``): no database, no INSi. The service ``dcc.services.identity.receive_identity`` finds
the candidates, calls it, and carries the decision out. Case letters the seed does not spell out are numbered in
the order of its text [U]: received status qualifiée / validée / provisoire → a / b / c (cases 1 and 4), and local
status provisoire / récupérée / validée / qualifiée → a / b / c / d (cases 3, 5, 6); ``e`` is « non retenue ».

| case | situation (seed section) | what the DCC does |
|---|---|---|
| 1a 1b 1c | flux, clause, identical local identity; received qualifiée / validée / provisoire (2.3.2.1) | inherits: as 2a / 3x / 5x |
| 2a | flux, clause, received qualifiée, incoherent, local kept (2.3.2.1 Cas 1) | récupérée → qualifiée without INSi; provisoire → validée then INSi; validée → INSi; qualifiée kept |
| 2b | idem, local not kept (2.3.2.1 Cas 2) | created qualifiée, INSi confirmation, « Tiers de confiance » if justificatif unknown |
| 3a–3d | flux, clause, received validée, local kept (2.3.2.1 Cas 1) | provisoire → validée; récupérée → qualifiée; validée → INSi; qualifiée kept |
| 3e | idem, local not kept | created validée, INSi |
| 4a 4b 4c | flux, clause, no local identity; received qualifiée / validée / provisoire (2.3.2.1) | as 2b / 3e / 5e |
| 5a–5d | flux, clause, received provisoire, local kept | status kept, qualification goes on (INSi when provisoire or validée) |
| 5e | idem, local not kept | created provisoire, INSi |
| 6a–6d | saisie, clause, known identity (2.3.2.2) | local status used, no duplicate, qualification goes on |
| 7 | saisie, clause, unknown identity (2.3.2.2) | created provisoire, INSi |
| 8a | no clause, known identical or kept by the PS (2.3.2.3) | status kept, nothing else |
| 8b | no clause, unknown or new by the PS (2.3.2.3) | created provisoire, INSi retrieval → récupérée, never validée/qualifiée |

Incoherent traits (some strict traits or the INS differ) always ask a human first (``action == "ask"``); the
decision is taken again with the human's ``choice`` (a candidate's patient id, or ``"create"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dcc import faults
from dcc.identity.status import TIERS_DE_CONFIANCE, IdentityStatus
from dcc.identity.traits import HasTraits, differences, similar

faults.register(
    "saisie_known_creates_duplicate",
    "an identity typed by hand that the DCC already knows is created again (cases 6a–6d become case 7)",
    breaks=["INS/RAP.05"],
)
faults.register(
    "received_validee_not_raised",
    "a received validée identity kept after rapprochement leaves the local status as it was (cases 3a, 3b)",
    breaks=["INS/RAP.03"],
)
faults.register(
    "received_identical_not_inherited",
    "a received identity identical to a local one leaves the local identity as it was (cases 1a–1c)",
    breaks=["INS/RAP.01"],
)
faults.register(
    "received_created_provisoire",
    "an identity received by flow and absent (or not kept) is created provisoire whatever its received status",
    breaks=["INS/RAP.04", "INS.06"],  # a received qualifiée identity never gets its « Tiers de confiance »
)
faults.register(
    "no_trust_clause_ignored",
    "the missing clause de confiance is ignored: cases 8a/8b are handled as cases 1–7",
    breaks=["INS/RAP.06"],
)

P, R, V, Q = (
    IdentityStatus.PROVISOIRE,
    IdentityStatus.RECUPEREE,
    IdentityStatus.VALIDEE,
    IdentityStatus.QUALIFIEE,
)
RECEIVABLE = (Q, V, P)  # the statuses a flow transmits (récupérée is not an identity another domain sends)
_BY_RECEIVED = {Q: "a", V: "b", P: "c"}
_BY_LOCAL = {P: "a", R: "b", V: "c", Q: "d"}
Choice = int | Literal["create"] | None


class MatchingError(ValueError):
    """An input the tables cannot decide on (wrong mode, status, or a choice that is not a candidate)."""

    reason = "matching_refused"


@dataclass(frozen=True)
class Received:
    """An identity reaching the DCC: by flow (with the sender's status) or typed by hand (no status)."""

    mode: Literal["flux", "saisie"]
    traits: HasTraits
    status: IdentityStatus | None = None
    matricule: str | None = None  # a flow sends it only for a qualifiée identity; typed: waits for INSi
    oid: str | None = None
    justificatif: str | None = None


@dataclass(frozen=True)
class Candidate:
    patient_id: int
    traits: HasTraits
    status: IdentityStatus
    matricule: str | None = None


@dataclass(frozen=True)
class Raise:
    """A status raise without INSi, on the strength of the received identity (its justificatif)."""

    to: IdentityStatus
    justificatif: str


@dataclass(frozen=True)
class Decision:
    case: str | None  # None while a human has to choose
    match: str  # identique, absente, retenue, non_retenue, a_rapprocher
    action: Literal["keep", "create", "ask"]
    patient_id: int | None = None  # the local identity kept
    create_status: IdentityStatus | None = None
    raises: tuple[Raise, ...] = ()
    insi: bool = False  # continue with INSi (retrieval, qualification or confirmation)
    justificatif: str | None = None  # for a created identity
    tiers_de_confiance: bool = False  # added automatically (flow, received qualifiée, justificatif unknown)
    candidates: tuple[int, ...] = field(default_factory=tuple)
    why: str = ""

    @property
    def kept(self) -> bool:
        return self.action == "keep"


def relation(received: Received, candidate: Candidate) -> Literal["identique", "incoherente", None]:
    """identique: same strict traits and no other INS; incoherente: same INS, or close traits; None: unrelated."""
    same_ins = bool(received.matricule and candidate.matricule and received.matricule == candidate.matricule)
    other_ins = bool(received.matricule and candidate.matricule and received.matricule != candidate.matricule)
    if not differences(candidate.traits, received.traits) and not other_ins:
        return "identique"
    if same_ins or similar(candidate.traits, received.traits):
        return "incoherente"
    return None


def _justificatif(received: Received, trust_clause: bool) -> tuple[str | None, bool]:
    """The received justificatif, or « Tiers de confiance » added automatically only for a qualifiée identity
    received by flow whose justificatif is unknown, with the clause de confiance (2.3.2.1 point d'attention)."""
    if received.justificatif:
        return received.justificatif, False
    if received.mode == "flux" and received.status is Q and trust_clause:
        return TIERS_DE_CONFIANCE, True
    return None, False


def _kept_flux(received: Received, local: Candidate, case: str, trust_clause: bool, match: str) -> Decision:
    """Cases 1x, 2a, 3a–3d, 5a–5d: the local identity stays, its status follows the received one."""
    justificatif, tiers = _justificatif(received, trust_clause)
    raises: tuple[Raise, ...] = ()
    insi = local.status in (P, V)
    if case.startswith("1") and faults.active("received_identical_not_inherited"):
        return Decision(
            case=case, match=match, action="keep", patient_id=local.patient_id, why="kept as it was"
        )
    if received.status is Q:  # 2a: récupérée/qualifiée → qualifiée, no INSi; provisoire/validée: INSi first
        if local.status is R and justificatif:
            raises = (Raise(Q, justificatif),)
        elif local.status is P and justificatif:
            raises = (Raise(V, justificatif),)
    elif received.status is V and not faults.active("received_validee_not_raised"):
        if local.status is P and justificatif:  # 3a
            raises = (Raise(V, justificatif),)
        elif local.status is R and justificatif:  # 3b
            raises = (Raise(Q, justificatif),)
    return Decision(
        case=case,
        match=match,
        action="keep",
        patient_id=local.patient_id,
        raises=raises,
        insi=insi,
        tiers_de_confiance=tiers and bool(raises),
        why=f"local identity {local.patient_id} ({local.status}) kept, received {received.status}",
    )


def _created(
    received: Received, case: str, trust_clause: bool, match: str, status: IdentityStatus
) -> Decision:
    justificatif, tiers = _justificatif(received, trust_clause)
    if faults.active("received_created_provisoire"):
        status = P
    if status is V and not justificatif:
        status = P  # [U] a validée identity needs a known high-trust document in this DCC
    return Decision(
        case=case,
        match=match,
        action="create",
        create_status=status,
        insi=True,
        justificatif=justificatif if status in (V, Q) else None,
        tiers_de_confiance=tiers and status is Q,
        why=f"new identity created {status} ({received.mode})",
    )


def decide(
    received: Received,
    candidates: list[Candidate] | tuple[Candidate, ...],
    trust_clause: bool,
    choice: Choice = None,
) -> Decision:
    """The case of the identity tables for ``received`` against the local ``candidates`` and what to do.

    ``choice`` is the human's answer to a rapprochement (patient id kept, or "create"); without it, incoherent
    identities give ``action == "ask"`` and change nothing."""
    if received.mode not in ("flux", "saisie"):
        raise MatchingError(f"mode {received.mode!r}: flux or saisie")
    if received.mode == "flux" and received.status not in RECEIVABLE:
        raise MatchingError(f"received status {received.status!r}: one of {', '.join(RECEIVABLE)}")
    if received.mode == "saisie" and received.status is not None:
        raise MatchingError(
            "an identity typed by hand has no received status: it is created provisoire (cas 7)"
        )
    related = [(c, relation(received, c)) for c in candidates]
    identical = [c for c, r in related if r == "identique"]
    proposed = [c for c, r in related if r is not None]
    by_id = {c.patient_id: c for c in proposed}
    if choice is not None and choice != "create" and choice not in by_id:
        raise MatchingError(
            f"choice {choice!r}: not a proposed identity ({', '.join(map(str, by_id)) or 'none'})"
        )

    if choice is None and len(identical) == 1:
        local, match = identical[0], "identique"
    elif not proposed:
        local, match = None, "absente"
    elif choice is None:
        return Decision(
            case=None,
            match="a_rapprocher",
            action="ask",
            candidates=tuple(by_id),
            why="traits or INS incoherent with a local identity: a human confirms the rapprochement (2.3.2.1)",
        )
    elif choice == "create":
        local, match = None, "non_retenue"
    else:
        local = by_id[choice]
        match = "identique" if local in identical else "retenue"

    if not trust_clause and not faults.active(
        "no_trust_clause_ignored"
    ):  # 2.3.2.3: same steps for flux and saisie, no validation or qualification
        if local is not None:
            return Decision(
                case="8a",
                match=match,
                action="keep",
                patient_id=local.patient_id,
                why="no clause de confiance: status kept, no automatic action",
            )
        return Decision(
            case="8b",
            match=match,
            action="create",
            create_status=P,
            insi=True,
            why="no clause de confiance: created provisoire, INSi retrieval (récupérée at best)",
        )

    if received.mode == "saisie":  # 2.3.2.2
        if local is not None and not faults.active("saisie_known_creates_duplicate"):
            return Decision(
                case=f"6{_BY_LOCAL[local.status]}",
                match=match,
                action="keep",
                patient_id=local.patient_id,
                insi=local.status in (P, V),
                why="known identity typed: its status is used, qualification goes on",
            )
        return Decision(
            case="7",
            match=match,  # "identique" here only under the fault saisie_known_creates_duplicate
            action="create",
            create_status=P,
            insi=True,
            why="unknown identity typed: created provisoire",
        )

    assert received.status is not None
    if local is not None:
        if match == "identique":
            case = f"1{_BY_RECEIVED[received.status]}"
        else:
            case = {Q: "2a", V: f"3{_BY_LOCAL[local.status]}", P: f"5{_BY_LOCAL[local.status]}"}[
                received.status
            ]
        return _kept_flux(received, local, case, trust_clause, match)
    if match == "absente":
        case = f"4{_BY_RECEIVED[received.status]}"
    else:
        case = {Q: "2b", V: "3e", P: "5e"}[received.status]
    return _created(received, case, trust_clause, match, received.status)
