"""A Hypothesis state machine drives the document commands (the API's service layer) in random order and checks,
after every step, against a model and the database: no illegal status or transition, a document never leaves
« validé » except a PPS to « clôturé » (changes go to a new version), the content of a validated version never
changes, one FRCP per PPS across its versions, contiguous versions, every refusal journaled, audit chain intact."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from dcc import audit
from dcc.db import make_session_factory
from dcc.db.models import DccEvent, Document
from dcc.services import commands
from dcc.services.documents import CLOTURE, COMPLETE, EN_COURS, TRANSITIONS, VALIDE, DocumentRuleError
from dcc.services.patients import Traits, create_patient

pytestmark = pytest.mark.persistence
STATUSES = (EN_COURS, COMPLETE, VALIDE, CLOTURE)
REFUSALS = (
    "document.transition_refused",
    "document.create_refused",
    "document.modification_refused",
)


def test_document_lifecycle_state_machine(engine):
    factory = make_session_factory(engine)

    class Lifecycle(RuleBasedStateMachine):
        documents = Bundle("documents")

        def __init__(self) -> None:
            super().__init__()
            self.session = factory()
            patient = create_patient(
                self.session, Traits("Machine", ("Etat",), "F", "1980-01-01"), author="u1"
            )
            self.session.commit()
            self.patient_id = patient.id
            self.status: dict[int, str] = {}  # the model: document id → expected status
            self.frozen: dict[int, dict] = {}  # content of each validated version when it was validated
            self.refusals_expected = self._refusals()

        def teardown(self) -> None:
            self.session.close()

        def _refusals(self) -> int:
            return self.session.scalar(
                select(func.count()).select_from(DccEvent).where(DccEvent.type.in_(REFUSALS))
            )

        def _refused(self) -> None:
            self.refusals_expected += 1

        def _document(self, document_id: int) -> Document:
            return self.session.get(Document, document_id)

        @rule(target=documents)
        def create_frcp(self):
            document = commands.create_frcp(self.session, self.patient_id, "u1", {"motif": "RCP"}).document
            self.status[document.id] = EN_COURS
            return document.id

        @rule(target=documents, frcp=documents)
        def create_pps(self, frcp):
            document = self._document(frcp)
            try:
                pps = commands.create_pps(self.session, frcp, "u1").document
            except DocumentRuleError as refused:
                assert document.kind != "FRCP" or self.status[frcp] != VALIDE, refused
                self._refused()
                return frcp
            assert document.kind == "FRCP" and self.status[frcp] == VALIDE
            self.status[pps.id] = EN_COURS
            return pps.id

        @rule(document_id=documents, to=st.sampled_from(STATUSES))
        def change_status(self, document_id, to):
            document = self._document(document_id)
            before = self.status[document_id]
            legal = (before, to) in TRANSITIONS[document.kind]
            try:
                commands.change_status(self.session, document_id, to, "u1")
            except DocumentRuleError:
                assert not legal
                self._refused()
                return
            assert legal
            self.status[document_id] = to
            if to == VALIDE:
                self.frozen[document_id] = dict(self._document(document_id).content)

        @rule(document_id=documents, value=st.text(max_size=5))
        def enter(self, document_id, value):
            try:
                commands.enter_fields(self.session, document_id, {"note": value}, "u1")
            except DocumentRuleError as refused:
                # refused when validated or closed, or when the value holds a character no CDA could carry
                unfit = any(
                    (ord(c) < 0x20 and c not in "\t\n\r") or c in "\ufffe\uffff" or "\ud800" <= c <= "\udfff"
                    for c in value
                )
                assert self.status[document_id] in (VALIDE, CLOTURE) or unfit, refused
                self._refused()
                return
            assert self.status[document_id] in (EN_COURS, COMPLETE)

        @rule(target=documents, document_id=documents)
        def new_version(self, document_id):
            document = self._document(document_id)
            latest = self.session.scalar(
                select(func.max(Document.version)).where(Document.set_id == document.set_id)
            )
            try:
                successor = commands.new_version(self.session, document_id, "u1").document
            except DocumentRuleError:
                assert self.status[document_id] not in (VALIDE, CLOTURE) or document.version != latest
                self._refused()
                return document_id
            assert self.status[document_id] in (VALIDE, CLOTURE) and document.version == latest
            self.status[successor.id] = EN_COURS
            return successor.id

        @invariant()
        def database_agrees_with_the_model(self):
            stored = dict(
                self.session.execute(
                    select(Document.id, Document.status).where(Document.patient_id == self.patient_id)
                ).all()
            )
            assert stored == self.status
            assert set(stored.values()) <= set(STATUSES)

        @invariant()
        def validated_content_never_changes(self):
            for document_id, content in self.frozen.items():
                assert self._document(document_id).content == content

        @invariant()
        def versions_and_one_frcp_per_pps(self):
            rows = self.session.scalars(select(Document).where(Document.patient_id == self.patient_id)).all()
            sets: dict[str, list[Document]] = {}
            for document in rows:
                sets.setdefault(document.set_id, []).append(document)
            for versions in sets.values():
                versions.sort(key=lambda d: d.version)
                assert [d.version for d in versions] == list(range(1, len(versions) + 1))
                assert all(d.replaces_id == p.id for p, d in pairwise(versions))
                assert all(d.status in (VALIDE, CLOTURE) for d in versions[:-1])  # only the latest is open
                if versions[0].kind == "PPS":
                    assert len({d.frcp_id for d in versions}) == 1
                    assert self.status[versions[0].frcp_id] == VALIDE

        @invariant()
        def refusals_are_journaled_and_audit_holds(self):
            assert self._refusals() == self.refusals_expected
            assert audit.verify(self.session) == []

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
