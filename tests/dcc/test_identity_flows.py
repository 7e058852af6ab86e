"""Qualification through INSi and reception of identities (cahier des charges §2.3.2), on the database, with the
events the rules of rules/INS.yaml read. INSi is the in-memory fake (tests/dcc/insi_fakes.py), and once the real
simulator over SOAP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dcc import audit, events, faults
from dcc.db.models import AuditEntry, IdentityStatusChange, Patient
from dcc.db.models_identity import IdentityInput
from dcc.identity import ins
from dcc.identity.insi import HttpInsiClient, InsiIdentity
from dcc.identity.status import IdentityRuleError, IdentityStatus
from dcc.services import documents
from dcc.services.identity import (
    IdentityFlowError,
    IncomingIdentity,
    Trust,
    qualify_with_insi,
    receive_identity,
    resolve_reception,
)
from dcc.services.patients import Traits, change_status, create_patient, enter_ins
from tests.dcc.insi_fakes import MARTIN, OID, FakeInsi

pytestmark = pytest.mark.persistence
P, R, V, Q = (
    IdentityStatus.PROVISOIRE,
    IdentityStatus.RECUPEREE,
    IdentityStatus.VALIDEE,
    IdentityStatus.QUALIFIEE,
)
INS = MARTIN.matricule
SAME = Traits("Martin", ("Jeanne", "Marie"), "F", "1979-03-12", "75056")
CLOSE = Traits("MARTIN", ("Jeane", "Marie"), "F", "1979-03-12", "75056")
OTHER = Traits("Durand", ("Paul",), "M", "1960-01-01")


def mark(session) -> int:
    return max((e["seq"] for e in events.export(session)), default=0)


def since(session, after, type=None):
    found = [
        e
        for e in events.export(session, after=after)
        if e["type"] != "audit.recorded" or type == "audit.recorded"
    ]
    return [e["data"] for e in found if type is None or e["type"] == type] if type else found


def local(session, status, traits=SAME):
    """A local identity at ``status`` reached the RNIV way."""
    patient = create_patient(session, traits, "op")
    if status is R:
        change_status(session, patient, R, "op", "INSi 00", ins_value=(INS, OID))
    if status in (V, Q):
        change_status(session, patient, V, "op", "CNI vue", justificatif="carte_identite")
    if status is Q:
        change_status(session, patient, Q, "op", "INSi 00", ins_value=(INS, OID))
    return patient


# --- qualification ------------------------------------------------------------------------------------------


def test_validee_and_insi_00_with_matching_traits_is_qualified(session):
    patient = local(session, V, Traits("Martin", ("Jeanne",), "F", "1979-03-12"))
    start = mark(session)
    outcome = qualify_with_insi(session, patient, "op", FakeInsi(), Trust(True, "liberal"))
    assert (outcome.action, outcome.code, patient.identity_status) == ("qualified", "00", "qualifiee")
    assert (patient.ins_matricule, patient.ins_oid) == (INS, OID)
    assert (patient.prenoms, patient.lieu_naissance) == ("Jeanne Marie", "75056")  # INSi traits taken
    trace = list(events.export(session, after=start))
    types = [e["type"] for e in trace]
    assert types[:2] == ["identity.qualification_requested", "identity.insi_result"]
    result = trace[1]["data"]
    assert (result["code"], result["action"], result["previous_status"]) == ("00", "qualified", "validee")
    assert result["request_id"] == outcome.request_id and result["matricule"] == INS
    changed_at = types.index("identity.status_changed")
    changed = trace[changed_at]["data"]
    assert (changed["from"], changed["to"], changed["insi_checked"], changed["author"]) == (
        "validee",
        "qualifiee",
        True,
        "op",
    )
    assert trace[changed_at + 1]["type"] == "audit.recorded"  # INS.03: the audit follows the change
    assert trace[changed_at + 1]["data"]["action"] == "identity.status_changed"


def test_provisoire_is_retrieved_without_the_clause_and_never_validated(session):
    patient = local(session, P)
    outcome = qualify_with_insi(session, patient, "op", FakeInsi(), Trust(False))
    assert (outcome.action, patient.identity_status, patient.ins_matricule) == ("retrieved", "recuperee", INS)


def test_without_the_clause_a_validee_identity_is_not_sent_to_insi(session):
    patient = local(session, V)
    insi = FakeInsi()
    start = mark(session)
    outcome = qualify_with_insi(
        session, patient, "op", insi, Trust(False, "etablissement", False, "no_convention")
    )
    assert (outcome.action, patient.identity_status, insi.calls) == ("refused", "validee", [])
    requested = since(session, start, "identity.qualification_requested")[0]
    assert (requested["trust_clause"], requested["convention_valid"]) == (False, False)
    assert since(session, start, "identity.qualification_refused")[0]["reason"] == "no_trust_clause"


OTHER_PERSON = InsiIdentity("1" * 13 + ins.key("1" * 13), OID, "DURAND", ("Paul",), "M", "1960-01-01")
BORN_ELSEWHERE = InsiIdentity(INS, OID, "MARTIN", ("Jeanne", "Marie"), "F", "1979-03-12", "69123")


@pytest.mark.parametrize(
    "start_status, policy, insi, expected",
    [
        (Q, "provisoire", FakeInsi(OTHER_PERSON), "provisoire"),  # 01
        (Q, "validee", FakeInsi(MARTIN, MARTIN), "validee"),  # 02
        (R, "validee", FakeInsi(MARTIN, MARTIN), "provisoire"),  # récupérée never falls to validée
        (R, "provisoire", FakeInsi(BORN_ELSEWHERE), "provisoire"),  # 00, other birthplace
        (V, "provisoire", FakeInsi(MARTIN, MARTIN), "provisoire"),
        (V, "validee", FakeInsi(MARTIN, MARTIN), "validee"),
    ],
    ids=[
        "qualifiee-01-provisoire",
        "qualifiee-02-validee",
        "recuperee-02-validee",
        "recuperee-00-mismatch",
        "validee-02-provisoire",
        "validee-02-validee",
    ],
)
def test_a_ko_downgrades_under_the_regional_policy_and_invalidates_the_ins(
    session, start_status, policy, insi, expected
):
    patient = local(session, start_status)
    start = mark(session)
    outcome = qualify_with_insi(session, patient, "op", insi, policy=policy)
    assert patient.identity_status == expected and patient.ins_matricule is None and patient.ins_oid is None
    result = since(session, start, "identity.insi_result")[0]
    assert result["previous_status"] == start_status.value and result["code"] == outcome.code
    assert outcome.code == (
        "00" if insi.identities == (BORN_ELSEWHERE,) else "01" if len(insi.identities) == 1 else "02"
    )
    assert result["traits_match"] is (
        False if outcome.code == "00" else None
    )  # a 00 here is a KO by its traits
    changes = since(session, start, "identity.status_changed")
    if expected == start_status.value:
        assert (outcome.action, changes) == ("kept", [])
    else:
        assert outcome.action == "downgrade" and result["action"] == "downgrade"
        assert (changes[0]["from"], changes[0]["to"]) == (start_status.value, expected)
        assert changes[0]["ins_invalidated"] is (start_status in (R, Q))


def test_policy_setting(session, monkeypatch):
    monkeypatch.setenv("DCC_INS_DOWNGRADE_TO", "validee")
    patient = local(session, Q)
    qualify_with_insi(session, patient, "op", FakeInsi(MARTIN, MARTIN))
    assert patient.identity_status == "validee"
    monkeypatch.setenv("DCC_INS_DOWNGRADE_TO", "recuperee")
    with pytest.raises(ValueError, match="DCC_INS_DOWNGRADE_TO='recuperee'"):
        qualify_with_insi(session, local(session, Q), "op", FakeInsi())


def test_an_insi_failure_changes_nothing_and_is_traced(session):
    patient = local(session, Q)
    start = mark(session)
    outcome = qualify_with_insi(session, patient, "op", FakeInsi(fail="insi_timeout"))
    assert (outcome.action, outcome.error, patient.identity_status, patient.ins_matricule) == (
        "error",
        "insi_timeout",
        "qualifiee",
        INS,
    )
    result = since(session, start, "identity.insi_result")[0]
    assert (result["code"], result["action"], result["error"]) == (None, "error", "insi_timeout")


def test_a_typed_matricule_insi_contradicts_is_a_ko(session):
    patient = create_patient(session, SAME, "op", ins_matricule="109076322083489", ins_oid=OID)
    assert patient.ins_matricule is None  # typed: waits for INSi
    change_status(session, patient, V, "op", "CNI", justificatif="carte_identite")
    outcome = qualify_with_insi(session, patient, "op", FakeInsi(), policy="validee")
    assert (outcome.action, outcome.mismatches, patient.identity_status) == ("kept", ["matricule"], "validee")


def test_an_ins_in_the_insi_history_is_replaced_by_the_active_one(session):
    old = "1090763220800"
    old += ins.key(old)
    moved = InsiIdentity(INS, OID, "MARTIN", ("Jeanne", "Marie"), "F", "1979-03-12", "75056", ((old, OID),))
    patient = local(session, P)
    change_status(session, patient, R, "op", "INSi", ins_value=(old, OID))
    assert qualify_with_insi(session, patient, "op", FakeInsi(moved)).action == "confirmed"
    assert (patient.identity_status, patient.ins_matricule) == ("recuperee", INS)


def test_against_the_insi_simulator(session):
    from harness.simulators.evidence import EvidenceStore
    from harness.simulators.insi import InsiSimulator

    with InsiSimulator(evidence=EvidenceStore()) as sim:
        patient = local(session, V, Traits("Dupont", ("Pierre",), "M", "2009-07-01"))
        start = mark(session)
        outcome = qualify_with_insi(session, patient, "op", HttpInsiClient(sim.endpoint, timeout=5))
        assert outcome.action == "qualified"
        served = [e for e in sim.evidence.events if e.type == "insi.request"]
    assert patient.identity_status == "qualifiee" and patient.ins_matricule == "109076322083489"
    result = since(session, start, "identity.insi_result")[0]
    assert (result["request_id"], result["code"]) == (
        served[-1].data["request_id"],
        served[-1].data["code_cr"],
    )  # INS.04


def test_care_goes_on_for_a_provisoire_identity(session):
    patient = local(session, P)
    frcp = documents.create_frcp(session, patient, "op")
    assert frcp.id is not None and patient.identity_status == "provisoire"


def test_the_ins_is_held_only_when_recuperee_or_qualifiee(session):
    patient = create_patient(session, SAME, "op", ins_matricule=INS, ins_oid=OID)
    assert patient.ins_matricule is None
    enter_ins(session, patient, INS, OID, "op")
    with pytest.raises(ins.InsError, match="key 88 is wrong"):
        enter_ins(session, patient, INS[:13] + "88", OID, "op")
    change_status(session, patient, V, "op", "CNI", justificatif="passeport")
    assert patient.ins_matricule is None
    change_status(session, patient, Q, "op", "INSi 00")  # the typed INS, once qualified
    assert patient.ins_matricule == INS
    bare = create_patient(session, CLOSE, "op")
    with pytest.raises(IdentityRuleError, match="needs the INS matricule"):
        change_status(session, bare, R, "op", "no INSi")
    with pytest.raises(IdentityRuleError, match="recuperee → validee not allowed"):
        change_status(session, local(session, R), V, "op", "x", downgrade=True)


# --- reception by flow or by hand (cases of dcc.identity.matching) -----------------------------------------


def flux(status, traits=SAME, justificatif=None, source="SIH-1"):
    matricule = INS if status == "qualifiee" else None
    return IncomingIdentity(
        "flux", traits, status, matricule, OID if matricule else None, justificatif, source, "SIH"
    )


@pytest.mark.parametrize(
    "case, local_status, local_traits, incoming, choice, final, insi_calls",
    [
        ("1a", V, SAME, flux("qualifiee"), None, "qualifiee", 1),
        ("1a", R, SAME, flux("qualifiee"), None, "qualifiee", 0),
        ("2a", R, SAME, flux("qualifiee", CLOSE), "keep", "qualifiee", 0),
        ("2a", P, SAME, flux("qualifiee", CLOSE), "keep", "qualifiee", 1),
        ("2b", V, CLOSE, flux("qualifiee"), "create", "qualifiee", 1),
        ("3a", P, SAME, flux("validee", CLOSE, "passeport"), "keep", "qualifiee", 1),
        ("3b", R, SAME, flux("validee", CLOSE, "passeport"), "keep", "qualifiee", 0),
        ("3e", P, CLOSE, flux("validee", SAME, "passeport"), "create", "qualifiee", 1),
        ("4a", None, None, flux("qualifiee"), None, "qualifiee", 1),
        ("4b", None, None, flux("validee", SAME, "passeport"), None, "qualifiee", 1),
        ("4c", None, None, flux("provisoire"), None, "recuperee", 1),
        ("5d", Q, SAME, flux("provisoire", CLOSE), "keep", "qualifiee", 0),
        ("5e", Q, CLOSE, flux("provisoire"), "create", "recuperee", 1),
        ("6c", V, SAME, IncomingIdentity("saisie", SAME), None, "qualifiee", 1),
        ("7", None, None, IncomingIdentity("saisie", SAME), None, "recuperee", 1),
    ],
)
def test_reception_cases(session, case, local_status, local_traits, incoming, choice, final, insi_calls):
    """§2.3.2.1–2.3.2.2 end to end: the case is decided, carried out, and the qualification goes on through INSi."""
    existing = local(session, local_status, local_traits) if local_status else None
    count = session.scalar(select(func.count()).select_from(Patient))
    start = mark(session)
    insi = FakeInsi()
    value = {"keep": existing.id if existing else None, "create": "create"}.get(choice)
    reception = receive_identity(session, incoming, "op", Trust(True, "liberal"), insi, choice=value)
    assert reception.decision.case == case and len(insi.calls) == insi_calls
    assert reception.patient.identity_status == final
    created = since(session, start, "patient.created")
    assert len(created) == (0 if reception.decision.kept else 1)
    assert session.scalar(select(func.count()).select_from(Patient)) == count + len(created)
    matched = since(session, start, "identity.matched")[0]
    assert (matched["patient_id"], matched["kept"], matched["case"]) == (
        str(reception.patient.id),
        reception.decision.kept,
        case,
    )
    if incoming.mode == "flux":
        received = since(session, start, "identity.received")[0]
        assert received["received_status"] == incoming.status and received["source_identity_id"] == "SIH-1"
        if created:  # INS/RAP.04: created at the received status, found by its source id
            assert (
                created[0]["identity_status"] == incoming.status
                and created[0]["source_identity_id"] == "SIH-1"
            )
            assert created[0]["mode"] == "flux"
    else:
        entered = since(session, start, "identity.entered")[0]
        assert entered["known"] is (existing is not None)
    for change in since(session, start, "identity.status_changed"):
        assert change["case"] == case
        if change["to"] == "qualifiee":  # INS/RAP.02: INSi exactly when qualifying from provisoire or validée
            assert change["insi_checked"] is (change["from"] in ("provisoire", "validee"))
        assert (change["from"], change["to"]) not in {("provisoire", "qualifiee"), ("recuperee", "validee")}
    record = session.get(IdentityInput, reception.input_id)
    assert (record.state, record.case, record.patient_id) == ("decided", case, reception.patient.id)
    assert audit.verify(session) == []


def test_tiers_de_confiance_is_added_for_a_qualified_flow_only(session):
    start = mark(session)
    receive_identity(session, flux("qualifiee"), "op", True, FakeInsi())
    justificatif = since(session, start, "identity.justificatif_set")
    assert [(j["justificatif"], j["mode"], j["received_status"]) for j in justificatif] == [
        ("tiers_de_confiance", "flux", "qualifiee")
    ]
    with pytest.raises(IdentityRuleError, match="received by flow"):
        receive_identity(session, IncomingIdentity("saisie", CLOSE, justificatif="tiers_de_confiance"), "op")
    with pytest.raises(IdentityRuleError, match="only for an identity received qualifiée"):
        receive_identity(session, flux("validee", CLOSE, "tiers_de_confiance"), "op")


def test_incoherent_identity_waits_for_a_human_then_is_resolved(session):
    existing = local(session, R)
    start = mark(session)
    pending = receive_identity(
        session, flux("validee", CLOSE, "passeport", source="SIH-9"), "op", True, FakeInsi()
    )
    assert (pending.decision.action, pending.patient, existing.identity_status) == ("ask", None, "recuperee")
    asked = since(session, start, "identity.rapprochement_requested")[0]
    assert asked["candidates"] == [str(existing.id)] and since(session, start, "identity.received") == []
    done = resolve_reception(session, pending.input_id, existing.id, "op2", True, FakeInsi())
    assert (done.decision.case, existing.identity_status) == ("3b", "qualifiee")
    assert since(session, start, "identity.received")[0]["match"] == "retenue"
    with pytest.raises(IdentityFlowError, match="no pending rapprochement"):
        resolve_reception(session, pending.input_id, "create", "op2")


def test_without_the_clause_case_8b_is_created_provisoire_then_recuperee_and_8a_does_nothing(session):
    start = mark(session)
    created = receive_identity(session, flux("qualifiee"), "op", Trust(False, "liberal"), FakeInsi())
    assert (created.decision.case, created.patient.identity_status, created.patient.justificatif) == (
        "8b",
        "recuperee",
        None,
    )
    assert since(session, start, "patient.created")[0]["trust_clause"] is False
    assert [c["to"] for c in since(session, start, "identity.status_changed")] == ["recuperee"]
    again = receive_identity(session, flux("qualifiee", source="SIH-2"), "op", Trust(False), FakeInsi())
    assert (again.decision.case, again.patient.id, again.patient.identity_status) == (
        "8a",
        created.patient.id,
        "recuperee",
    )


def test_a_flow_matricule_of_a_non_qualified_identity_is_dropped(session):
    incoming = IncomingIdentity("flux", SAME, "provisoire", INS, OID, None, "SIH-3")
    reception = receive_identity(session, incoming, "op", True)
    assert reception.matricule_ignored and reception.patient.ins_matricule is None


@pytest.mark.parametrize(
    "incoming, reason",
    [
        (IncomingIdentity("flux", SAME, "recuperee"), "bad_status"),
        (IncomingIdentity("flux", SAME, "qualifiee"), "ins_missing"),
        (IncomingIdentity("saisie", SAME, "validee"), "bad_status"),
        (IncomingIdentity("pigeon", SAME), "bad_mode"),
    ],
)
def test_unusable_inputs_are_refused_before_writing(session, incoming, reason):
    before = session.scalar(select(func.count()).select_from(IdentityInput))
    with pytest.raises(IdentityFlowError) as raised:
        receive_identity(session, incoming, "op")
    assert raised.value.reason == reason
    assert session.scalar(select(func.count()).select_from(IdentityInput)) == before


# --- faults: each one changes the behaviour its REM requirement checks ----------------------------------------


def test_fault_ins_qualified_without_insi(session):
    existing = local(session, V)
    insi = FakeInsi()
    with faults.enabled("ins_qualified_without_insi"):
        reception = receive_identity(session, flux("qualifiee", CLOSE), "op", True, insi, choice=existing.id)
    assert reception.decision.case == "2a" and existing.identity_status == "qualifiee" and insi.calls == []


def test_fault_ins_no_downgrade_on_ko(session):
    patient = local(session, Q)
    with faults.enabled("ins_no_downgrade_on_ko"):
        outcome = qualify_with_insi(session, patient, "op", FakeInsi(MARTIN, MARTIN))
    assert (outcome.code, patient.identity_status, patient.ins_matricule) == ("02", "qualifiee", INS)


def test_fault_tiers_de_confiance_by_hand(session):
    patient = create_patient(session, SAME, "op")
    with pytest.raises(IdentityRuleError):
        change_status(session, patient, V, "op", "x", justificatif="tiers_de_confiance")
    with faults.enabled("tiers_de_confiance_by_hand"):
        change_status(session, patient, V, "op", "x", justificatif="tiers_de_confiance")
    assert (patient.identity_status, patient.justificatif, patient.mode) == (
        "validee",
        "tiers_de_confiance",
        "saisie",
    )


def test_fault_identity_status_not_historised(session):
    patient = local(session, P)
    rows = session.scalar(select(func.count()).select_from(IdentityStatusChange))
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    start = mark(session)
    with faults.enabled("identity_status_not_historised"):
        change_status(session, patient, V, "op", "CNI", justificatif="carte_identite")
    assert session.scalar(select(func.count()).select_from(IdentityStatusChange)) == rows
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert [
        e["data"]["action"] for e in events.export(session, after=start) if e["type"] == "audit.recorded"
    ] == []


def test_fault_ins_key_not_checked(session):
    start = mark(session)
    with faults.enabled("ins_key_not_checked"):
        patient = create_patient(session, SAME, "op", ins_matricule=INS[:13] + "88", ins_oid=OID)
    entered = since(session, start, "identity.ins_entered")[0]
    assert (entered["key_valid"], entered["accepted"], entered["patient_id"]) == (
        False,
        True,
        str(patient.id),
    )


def test_fault_rniv_transition_unchecked(session):
    patient = create_patient(session, SAME, "op", ins_matricule=INS, ins_oid=OID)
    with pytest.raises(IdentityRuleError, match="not allowed"):
        change_status(session, patient, Q, "op", "direct", justificatif="passeport")
    with faults.enabled("rniv_transition_unchecked"):
        change_status(session, patient, Q, "op", "direct", justificatif="passeport")
    assert (patient.identity_status, patient.ins_matricule) == ("qualifiee", INS)


def test_fault_insi_result_partly_traced(session):
    first, second = local(session, P), local(session, P)
    start = mark(session)
    qualify_with_insi(session, first, "op", FakeInsi())
    with faults.enabled("insi_result_partly_traced"):
        qualify_with_insi(session, second, "op", FakeInsi())
    whole, partial = since(session, start, "identity.insi_result")
    assert (whole["code"], whole["matricule"], whole["oid"]) == ("00", MARTIN.matricule, MARTIN.oid)
    assert partial["code"] == "00" and not {"matricule", "oid", "traits"} & set(partial)


def test_fault_typed_ins_trusted_at_creation(session):
    assert create_patient(session, SAME, "op", ins_matricule=INS, ins_oid=OID).identity_status == "provisoire"
    typed = IncomingIdentity("saisie", OTHER, None, INS, OID)
    with faults.enabled("typed_ins_trusted_at_creation"):
        assert (
            create_patient(session, CLOSE, "op", ins_matricule=INS, ins_oid=OID).identity_status
            == "provisoire"
        )
        patient = receive_identity(session, typed, "op", True).patient
    assert (patient.identity_status, patient.ins_matricule) == ("recuperee", INS)


def test_fault_care_blocked_without_qualified_identity(session):
    def validated(patient):
        frcp = documents.create_frcp(session, patient, "op")
        documents.set_status(session, frcp, "complete", "op")
        return documents.set_status(session, frcp, "valide", "op")

    def typed(traits):
        return receive_identity(session, IncomingIdentity("saisie", traits), "op", True).patient

    assert validated(typed(SAME)).status == "valide"
    with faults.enabled("care_blocked_without_qualified_identity"):
        assert validated(local(session, P, CLOSE)).status == "valide"  # not from the identity desk
        with pytest.raises(documents.DocumentRuleError) as refused:
            validated(typed(OTHER))
        assert validated(local(session, Q)).status == "valide"
    assert refused.value.reason == "identity_not_qualified"
