"""INS matricule and RNIV status rules of the reference DCC (no database)."""

from __future__ import annotations

import re

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dcc.identity import ins
from dcc.identity.status import (
    MANUAL_CHOICES,
    UPGRADES,
    IdentityRuleError,
    IdentityStatus,
    check_justificatif,
    check_transition,
)

TEST_OID = "1.2.250.1.213.1.4.10"


@pytest.mark.parametrize("matricule", ["109076322083489", "209076322083439", "279035121518989"])
def test_published_key_vectors(matricule):
    assert ins.check(matricule, TEST_OID) == matricule


def test_corsica_departments():
    for dept, digits in (("2A", "19"), ("2B", "18")):
        body = f"18502{dept}004012"
        expected = f"{97 - int(body.replace(dept, digits)) % 97:02d}"
        assert ins.key(body) == expected
        assert ins.check(body + expected, TEST_OID) == body + expected


@pytest.mark.parametrize(
    "matricule, oid, message",
    [
        ("279035121518988", TEST_OID, "key 88 is wrong (expected 89)"),
        ("27903512151898", TEST_OID, "15 characters expected"),
        ("X79035121518989", TEST_OID, "not a NIR/NIA layout"),
        ("279035121518989", "1.2.3", "not an INS OID"),
    ],
)
def test_bad_matricules_are_refused_with_the_reason(matricule, oid, message):
    with pytest.raises(ins.InsError, match=re.escape(message)):
        ins.check(matricule, oid)


def test_every_transition_pair():
    for current in IdentityStatus:
        for new in IdentityStatus:
            if (current, new) in UPGRADES:
                check_transition(current, new)
            else:
                with pytest.raises(IdentityRuleError):
                    check_transition(current, new)


def test_tiers_de_confiance_never_by_hand():
    assert "tiers_de_confiance" not in MANUAL_CHOICES
    with pytest.raises(IdentityRuleError, match="received by flow"):
        check_justificatif("tiers_de_confiance", "saisie")
    check_justificatif("tiers_de_confiance", "flux")
    with pytest.raises(IdentityRuleError, match="not high-trust"):
        check_justificatif("carte_vitale", "saisie")


class IdentityMachine(RuleBasedStateMachine):
    """No sequence of changes reaches qualifiée except through validée or récupérée; refused changes change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.status = IdentityStatus.PROVISOIRE
        self.path = [self.status]

    @rule(new=st.sampled_from(list(IdentityStatus)), downgrade=st.booleans())
    def change(self, new, downgrade):
        before = self.status
        try:
            check_transition(self.status, new, downgrade)
        except IdentityRuleError:
            assert self.status == before
            return
        self.status = new
        self.path.append(new)

    @invariant()
    def qualified_only_through_validated_or_retrieved(self):
        for previous, current in zip(self.path, self.path[1:], strict=False):
            if current is IdentityStatus.QUALIFIEE:
                assert previous in (IdentityStatus.VALIDEE, IdentityStatus.RECUPEREE)


TestIdentityMachine = IdentityMachine.TestCase
TestIdentityMachine.settings = settings(max_examples=60, stateful_step_count=15, deadline=None)
