"""A Hypothesis state machine over identity statuses, on the database: creation by hand, reception by flow (with
or without the clause, with the human's rapprochement answers), validation with a justificatif, INSi with 00 / 01 /
02 / failure under either regional policy, downgrades. After every step no identity is in an illegal state:

- the INS matricule and its OID are held exactly when récupérée or qualifiée;
- validée and qualifiée have a high-trust justificatif; « Tiers de confiance » only ever came with a qualifiée flow;
- every status change is historised (previous status, date, author) in an unbroken chain that ends at the current
  status, only through RNIV transitions, and the audit chain verifies;
- a refused operation writes nothing.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from dcc import audit
from dcc.db import make_session_factory
from dcc.db.models import DccEvent, IdentityStatusChange, Patient
from dcc.db.models_identity import IdentityInput
from dcc.identity.insi import InsiIdentity
from dcc.identity.status import DOWNGRADES, MANUAL_CHOICES, UPGRADES, IdentityStatus
from dcc.services.identity import (
    IncomingIdentity,
    Trust,
    qualify_with_insi,
    receive_identity,
    resolve_reception,
)
from dcc.services.patients import Traits, change_status, create_patient
from tests.dcc.insi_fakes import MARTIN, OID, FakeInsi

pytestmark = pytest.mark.persistence

DUPONT = InsiIdentity("109076322083489", OID, "DUPONT", ("Pierre",), "M", "2009-07-01", "63220")
STRANGER = InsiIdentity("209076322083439", OID, "BERNARD", ("Claire",), "F", "2009-07-01", "63220")
TRAITS = [
    Traits("Martin", ("Jeanne", "Marie"), "F", "1979-03-12", "75056"),
    Traits("MARTIN", ("Jeane", "Marie"), "F", "1979-03-12", "75056"),
    Traits("Dupont", ("Pierre",), "M", "2009-07-01"),
    Traits("Dupond", ("Pierre",), "M", "2009-07-01"),
]
INSI = {
    "00": lambda: FakeInsi(MARTIN, DUPONT),
    "01": lambda: FakeInsi(STRANGER),
    "02": lambda: FakeInsi(MARTIN, MARTIN, DUPONT, DUPONT),
    "error": lambda: FakeInsi(fail="insi_timeout"),
}
REFUSALS = (ValueError,)  # IdentityRuleError, NoTrustClause, IdentityFlowError, InsError are all ValueErrors
LEGAL = UPGRADES | DOWNGRADES


class IdentityMachine(RuleBasedStateMachine):
    factory = None  # set by the test from the migrated engine

    def __init__(self) -> None:
        super().__init__()
        self.session = self.factory()
        self.session.begin()

    patients = Bundle("patients")

    def teardown(self) -> None:
        self.session.rollback()
        self.session.close()

    def _count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(DccEvent))

    def _attempt(self, operation) -> object:
        """Runs ``operation``; a refusal must leave no event behind (nothing written)."""
        before = self._count()
        try:
            return operation()
        except REFUSALS:
            assert self._count() == before, "a refused operation wrote something"
            return None

    @rule(target=patients, traits=st.sampled_from(TRAITS), typed=st.booleans())
    def create_by_hand(self, traits, typed):
        matricule = MARTIN.matricule if typed else None
        return create_patient(
            self.session, traits, "op", ins_matricule=matricule, ins_oid=OID if typed else None
        ).id

    @rule(
        traits=st.sampled_from(TRAITS),
        status=st.sampled_from(["provisoire", "validee", "qualifiee"]),
        justificatif=st.sampled_from([None, "passeport", "tiers_de_confiance"]),
        trust=st.booleans(),
        answer=st.sampled_from(sorted(INSI)),
        choice=st.sampled_from([None, "create", "first"]),
        mode=st.sampled_from(["flux", "saisie"]),
    )
    def receive(self, traits, status, justificatif, trust, answer, choice, mode):
        matricule = (MARTIN if traits.nom_naissance.upper() == "MARTIN" else DUPONT).matricule
        incoming = (
            IncomingIdentity(
                "flux", traits, status, matricule if status == "qualifiee" else None, OID, justificatif, "S"
            )
            if mode == "flux"
            else IncomingIdentity("saisie", traits, justificatif=justificatif)
        )
        first = self._attempt(
            lambda: receive_identity(self.session, incoming, "op", Trust(trust), INSI[answer]())
        )
        if first is not None and first.decision.action == "ask" and choice is not None:
            value = first.decision.candidates[0] if choice == "first" else "create"
            self._attempt(
                lambda: resolve_reception(
                    self.session, first.input_id, value, "op2", Trust(trust), INSI[answer]()
                )
            )

    @rule(
        patient_id=patients,
        justificatif=st.sampled_from([*MANUAL_CHOICES, "tiers_de_confiance"]),
        trust=st.booleans(),
    )
    def validate_by_hand(self, patient_id, justificatif, trust):
        patient = self.session.get(Patient, patient_id)
        target = (
            IdentityStatus.QUALIFIEE if patient.identity_status == "recuperee" else IdentityStatus.VALIDEE
        )
        self._attempt(
            lambda: change_status(
                self.session, patient, target, "op", "pièce vue", justificatif, trust_clause=trust
            )
        )

    @rule(
        patient_id=patients,
        answer=st.sampled_from(sorted(INSI)),
        trust=st.booleans(),
        policy=st.sampled_from(["provisoire", "validee"]),
    )
    def ask_insi(self, patient_id, answer, trust, policy):
        patient = self.session.get(Patient, patient_id)
        self._attempt(
            lambda: qualify_with_insi(
                self.session, patient, "op", INSI[answer](), Trust(trust), policy=policy
            )
        )

    @rule(patient_id=patients, to=st.sampled_from(list(IdentityStatus)))
    def downgrade(self, patient_id, to):
        patient = self.session.get(Patient, patient_id)
        self._attempt(
            lambda: change_status(self.session, patient, to, "op", "rétrogradation", downgrade=True)
        )

    @invariant()
    def no_illegal_state(self):
        self.session.flush()
        for patient in self.session.scalars(select(Patient)):
            status = IdentityStatus(patient.identity_status)
            holds = status in (IdentityStatus.RECUPEREE, IdentityStatus.QUALIFIEE)
            assert (patient.ins_matricule is not None) is holds, (patient.id, status, patient.ins_matricule)
            assert (patient.ins_oid is not None) is holds
            if status in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE):
                assert patient.justificatif is not None
            if patient.justificatif == "tiers_de_confiance":
                sets = [
                    e.data
                    for e in self.session.scalars(
                        select(DccEvent).where(DccEvent.type == "identity.justificatif_set")
                    )
                    if e.data["patient_id"] == str(patient.id)
                    and e.data["justificatif"] == "tiers_de_confiance"
                ]
                assert sets and all(s["mode"] == "flux" and s["received_status"] == "qualifiee" for s in sets)
            history = self.session.scalars(
                select(IdentityStatusChange)
                .where(IdentityStatusChange.patient_id == patient.id)
                .order_by(IdentityStatusChange.id)
            ).all()
            assert history and history[0].previous_status is None and history[-1].new_status == status.value
            for earlier, later in pairwise(history):
                assert later.previous_status == earlier.new_status
                assert (IdentityStatus(later.previous_status), IdentityStatus(later.new_status)) in LEGAL
                assert later.author and later.at is not None

    @invariant()
    def pending_inputs_have_no_patient(self):
        for record in self.session.scalars(select(IdentityInput).where(IdentityInput.state == "pending")):
            assert record.patient_id is None and record.candidates

    def check_audit(self):
        assert audit.verify(self.session) == []


def test_identity_state_machine(engine):
    IdentityMachine.factory = make_session_factory(engine)

    class Checked(IdentityMachine):
        def teardown(self) -> None:
            self.check_audit()
            super().teardown()

    run_state_machine_as_test(
        Checked,
        settings=settings(
            max_examples=40,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
