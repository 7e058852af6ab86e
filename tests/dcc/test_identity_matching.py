"""Every case of the identity tables (cahier des charges §2.3.2.1–2.3.2.3), decided by the pure function
``dcc.identity.matching.decide``: one test per case id, plus the relations and guards around them."""

from __future__ import annotations

import pytest

from dcc import faults
from dcc.identity.matching import Candidate, MatchingError, Raise, Received, decide, relation
from dcc.identity.status import IdentityStatus
from dcc.services.patients import Traits

P, R, V, Q = (
    IdentityStatus.PROVISOIRE,
    IdentityStatus.RECUPEREE,
    IdentityStatus.VALIDEE,
    IdentityStatus.QUALIFIEE,
)
INS = "279035121518989"
OID = "1.2.250.1.213.1.4.10"
SAME = Traits("Martin", ("Jeanne", "Marie"), "F", "1979-03-12", "75056")
CLOSE = Traits("MARTIN", ("Jeane", "Marie"), "F", "1979-03-12", "75056")  # a typo in the first prénom
OTHER = Traits("Durand", ("Paul",), "M", "1960-01-01")
LOCAL_ID = 7


def flux(status, traits=SAME, justificatif=None):
    matricule = INS if status is Q else None
    return Received("flux", traits, status, matricule, OID if matricule else None, justificatif)


def saisie(traits=SAME):
    return Received("saisie", traits)


def local(status, traits=SAME):
    return Candidate(LOCAL_ID, traits, status, INS if status in (R, Q) else None)


# (case, seed section, received, local candidate or None, clause de confiance, human choice, expected decision)
TDC = "tiers_de_confiance"
CASES = [
    # 2.3.2.1, identité reçue identique: the DCC inherits it and goes on with the qualification
    (
        "1a",
        "2.3.2.1",
        flux(Q),
        local(P),
        True,
        None,
        dict(action="keep", raises=(Raise(V, TDC),), insi=True, tiers=True),
    ),
    (
        "1b",
        "2.3.2.1",
        flux(V, justificatif="passeport"),
        local(P),
        True,
        None,
        dict(action="keep", raises=(Raise(V, "passeport"),), insi=True),
    ),
    ("1c", "2.3.2.1", flux(P), local(V), True, None, dict(action="keep", raises=(), insi=True)),
    # 2.3.2.1 Cas 1, reçue qualifiée, conservée: récupérée/qualifiée → qualifiée sans INSi, provisoire/validée: INSi
    (
        "2a",
        "2.3.2.1",
        flux(Q, CLOSE),
        local(R),
        True,
        LOCAL_ID,
        dict(action="keep", raises=(Raise(Q, TDC),), insi=False, tiers=True),
    ),
    ("2a", "2.3.2.1", flux(Q, CLOSE), local(Q), True, LOCAL_ID, dict(action="keep", raises=(), insi=False)),
    ("2a", "2.3.2.1", flux(Q, CLOSE), local(V), True, LOCAL_ID, dict(action="keep", raises=(), insi=True)),
    (
        "2a",
        "2.3.2.1",
        flux(Q, CLOSE),
        local(P),
        True,
        LOCAL_ID,
        dict(action="keep", raises=(Raise(V, TDC),), insi=True, tiers=True),
    ),
    # 2.3.2.1 Cas 2, reçue qualifiée non retenue: création qualifiée, INSi, « Tiers de confiance »
    (
        "2b",
        "2.3.2.1",
        flux(Q, CLOSE),
        local(V),
        True,
        "create",
        dict(action="create", create=Q, justificatif=TDC, insi=True, tiers=True),
    ),
    # 2.3.2.1 Cas 1, reçue validée: provisoire → validée, récupérée → qualifiée
    (
        "3a",
        "2.3.2.1",
        flux(V, CLOSE, "carte_identite"),
        local(P),
        True,
        LOCAL_ID,
        dict(action="keep", raises=(Raise(V, "carte_identite"),), insi=True),
    ),
    (
        "3b",
        "2.3.2.1",
        flux(V, CLOSE, "carte_identite"),
        local(R),
        True,
        LOCAL_ID,
        dict(action="keep", raises=(Raise(Q, "carte_identite"),), insi=False),
    ),
    (
        "3c",
        "2.3.2.1",
        flux(V, CLOSE, "carte_identite"),
        local(V),
        True,
        LOCAL_ID,
        dict(action="keep", raises=(), insi=True),
    ),
    (
        "3d",
        "2.3.2.1",
        flux(V, CLOSE, "carte_identite"),
        local(Q),
        True,
        LOCAL_ID,
        dict(action="keep", raises=(), insi=False),
    ),
    (
        "3e",
        "2.3.2.1",
        flux(V, CLOSE, "carte_identite"),
        local(P),
        True,
        "create",
        dict(action="create", create=V, justificatif="carte_identite", insi=True),
    ),
    # 2.3.2.1, identité reçue absente: as « non retenue »
    (
        "4a",
        "2.3.2.1",
        flux(Q),
        None,
        True,
        None,
        dict(action="create", create=Q, justificatif=TDC, insi=True, tiers=True),
    ),
    (
        "4b",
        "2.3.2.1",
        flux(V, justificatif="passeport"),
        None,
        True,
        None,
        dict(action="create", create=V, justificatif="passeport", insi=True),
    ),
    ("4c", "2.3.2.1", flux(P), None, True, None, dict(action="create", create=P, insi=True)),
    # 2.3.2.1 Cas 1, reçue provisoire: la qualification se poursuit
    ("5a", "2.3.2.1", flux(P, CLOSE), local(P), True, LOCAL_ID, dict(action="keep", raises=(), insi=True)),
    ("5b", "2.3.2.1", flux(P, CLOSE), local(R), True, LOCAL_ID, dict(action="keep", raises=(), insi=False)),
    ("5c", "2.3.2.1", flux(P, CLOSE), local(V), True, LOCAL_ID, dict(action="keep", raises=(), insi=True)),
    ("5d", "2.3.2.1", flux(P, CLOSE), local(Q), True, LOCAL_ID, dict(action="keep", raises=(), insi=False)),
    ("5e", "2.3.2.1", flux(P, CLOSE), local(Q), True, "create", dict(action="create", create=P, insi=True)),
    # 2.3.2.2, saisie connue: le statut existant est utilisé, sans doublon
    ("6a", "2.3.2.2", saisie(), local(P), True, None, dict(action="keep", raises=(), insi=True)),
    ("6b", "2.3.2.2", saisie(), local(R), True, None, dict(action="keep", raises=(), insi=False)),
    ("6c", "2.3.2.2", saisie(), local(V), True, None, dict(action="keep", raises=(), insi=True)),
    ("6d", "2.3.2.2", saisie(), local(Q), True, None, dict(action="keep", raises=(), insi=False)),
    # 2.3.2.2, saisie inconnue: création provisoire
    ("7", "2.3.2.2", saisie(), None, True, None, dict(action="create", create=P, insi=True)),
    ("7", "2.3.2.2", saisie(CLOSE), local(V), True, "create", dict(action="create", create=P, insi=True)),
    # 2.3.2.3, sans clause de confiance: statut conservé sans action, ou création provisoire puis INSi (récupérée)
    ("8a", "2.3.2.3", flux(Q), local(P), False, None, dict(action="keep", raises=(), insi=False)),
    ("8a", "2.3.2.3", saisie(CLOSE), local(V), False, LOCAL_ID, dict(action="keep", raises=(), insi=False)),
    ("8b", "2.3.2.3", flux(Q), None, False, None, dict(action="create", create=P, insi=True)),
    ("8b", "2.3.2.3", saisie(CLOSE), local(V), False, "create", dict(action="create", create=P, insi=True)),
]


def _id(row):
    case, _, received, candidate, trust, choice, _ = row
    where = candidate.status if candidate else "absent"
    human = {None: "", "create": "-cree"}.get(choice, "-conserve")
    clause = "clause" if trust else "sans_clause"
    return f"{case}-{received.mode}-{received.status or 'saisie'}-local_{where}-{clause}{human}"


@pytest.mark.parametrize(
    "case, section, received, candidate, trust, choice, expected", CASES, ids=[_id(c) for c in CASES]
)
def test_case(case, section, received, candidate, trust, choice, expected):
    """Each row is one case of the tables of §2.3.2.1–2.3.2.3 (section in the row)."""
    decision = decide(received, [candidate] if candidate else [], trust, choice)
    assert decision.case == case, section
    assert decision.action == expected["action"]
    assert decision.insi is expected["insi"]
    assert decision.tiers_de_confiance is expected.get("tiers", False)
    if expected["action"] == "keep":
        assert decision.patient_id == LOCAL_ID and decision.kept
        assert decision.raises == expected["raises"]
        assert decision.create_status is None
    else:
        assert decision.patient_id is None and not decision.kept
        assert decision.create_status is expected["create"]
        assert decision.justificatif == expected.get("justificatif")
    expected_match = {None: "identique" if candidate else "absente", "create": "non_retenue"}.get(
        choice, "retenue"
    )
    if choice is None and candidate is not None and relation(received, candidate) != "identique":
        expected_match = "?"
    assert decision.match == expected_match


def test_every_case_of_the_tables_is_covered():
    expected = {"1a", "1b", "1c", "2a", "2b", "3a", "3b", "3c", "3d", "3e", "4a", "4b", "4c"}
    expected |= {"5a", "5b", "5c", "5d", "5e", "6a", "6b", "6c", "6d", "7", "8a", "8b"}
    assert {row[0] for row in CASES} == expected


@pytest.mark.parametrize(
    "received", [flux(Q, CLOSE), flux(V, CLOSE, "passeport"), flux(P, CLOSE), saisie(CLOSE)]
)
def test_incoherent_identities_ask_a_human_first(received):
    decision = decide(received, [local(V), Candidate(9, OTHER, P)], True)
    assert (decision.action, decision.case, decision.match, decision.candidates) == (
        "ask",
        None,
        "a_rapprocher",
        (LOCAL_ID,),
    )


def test_relations():
    assert relation(flux(Q), local(Q)) == "identique"
    assert (
        relation(flux(Q), Candidate(1, SAME, Q, "109076322083489")) == "incoherente"
    )  # same traits, other INS
    assert relation(flux(Q, OTHER), Candidate(1, OTHER, Q, INS)) == "identique"
    assert relation(flux(Q, OTHER), local(Q)) == "incoherente"  # other traits, same INS
    assert relation(flux(P, OTHER), local(P)) is None
    accents = Traits("MARTIN", ("JEANNE", "MARIE"), "F", "1979-03-12")
    assert (
        relation(flux(P, Traits("Martín", ("Jeanne-Marie",), "F", "1979-03-12")), local(P, accents))
        == "identique"
    )


def test_two_identical_local_identities_ask_which_one():
    decision = decide(flux(Q), [local(P), Candidate(8, SAME, V)], True)
    assert decision.action == "ask" and decision.candidates == (LOCAL_ID, 8)
    assert decide(flux(Q), [local(P), Candidate(8, SAME, V)], True, 8).case == "1a"


def test_tiers_de_confiance_only_for_a_qualifiee_flow_with_the_clause():
    assert decide(flux(Q), [], True).justificatif == "tiers_de_confiance"
    assert decide(flux(Q, justificatif="passeport"), [], True).justificatif == "passeport"
    assert decide(flux(V), [], True).create_status is P  # [U] no validée without a known document
    assert decide(flux(V), [local(P)], True).raises == ()
    assert decide(flux(Q), [], False).justificatif is None
    assert all(not decide(saisie(), c, True).tiers_de_confiance for c in ([], [local(P)]))


def test_guards():
    with pytest.raises(MatchingError, match="not a proposed identity"):
        decide(flux(Q, CLOSE), [local(P)], True, 99)
    with pytest.raises(MatchingError, match="received status"):
        decide(Received("flux", SAME, R), [], True)
    with pytest.raises(MatchingError, match="no received status"):
        decide(Received("saisie", SAME, V), [], True)
    with pytest.raises(MatchingError, match="mode"):
        decide(Received("fax", SAME), [], True)  # type: ignore[arg-type]


def test_fault_saisie_known_creates_duplicate():
    assert decide(saisie(), [local(V)], True).case == "6c"
    with faults.enabled("saisie_known_creates_duplicate"):
        decision = decide(saisie(), [local(V)], True)
    assert (decision.case, decision.action) == ("7", "create")


def test_fault_received_validee_not_raised():
    assert decide(flux(V, CLOSE, "passeport"), [local(P)], True, LOCAL_ID).raises == (Raise(V, "passeport"),)
    with faults.enabled("received_validee_not_raised"):
        assert decide(flux(V, CLOSE, "passeport"), [local(P)], True, LOCAL_ID).raises == ()
        assert decide(flux(V, CLOSE, "passeport"), [local(R)], True, LOCAL_ID).raises == ()


def test_fault_received_identical_not_inherited():
    assert decide(flux(Q), [local(V)], True).insi is True
    with faults.enabled("received_identical_not_inherited"):
        decision = decide(flux(Q), [local(V)], True)
        raised = decide(flux(V, SAME, "passeport"), [local(P)], True)
    assert (decision.case, decision.action, decision.insi, decision.raises) == ("1a", "keep", False, ())
    assert (raised.case, raised.raises) == ("1b", ())


def test_fault_received_created_provisoire():
    assert decide(flux(Q), [], True).create_status is Q
    with faults.enabled("received_created_provisoire"):
        decision = decide(flux(Q), [], True)
    assert (decision.case, decision.create_status) == ("4a", P)


def test_fault_no_trust_clause_ignored():
    assert decide(flux(V, SAME, "passeport"), [], False).case == "8b"
    with faults.enabled("no_trust_clause_ignored"):
        decision = decide(flux(V, SAME, "passeport"), [], False)
    assert (decision.case, decision.create_status) == ("4b", V)
