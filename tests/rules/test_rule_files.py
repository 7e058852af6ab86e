"""The project's rule files: they load without error, bind every REM requirement, and every automatic rule is
shown to pass on one trace and to fail on another (its fixtures) — a rule that cannot fail is a defect."""

from __future__ import annotations

import pytest

from rem import default_rem_path
from rem.loader import load_rem
from rules.check import check
from rules.engine import Evaluator
from rules.examples import FIXTURES_DIR, load_examples, to_events
from rules.loader import load_rules
from rules.profile import load_profile
from rules.verdict import Outcome

REM = load_rem(default_rem_path()).rem
RULES = load_rules()
EXAMPLES = load_examples()
AUTOMATIC = sorted(rid for rid, rule in RULES.rules.items() if not rule.manuelle)


def test_rule_files_load_and_trace_to_the_rem():
    report = check(RULES, REM)
    assert [str(e) for e in report.errors] == []
    assert report.unbound == [] and report.orphans == [] and report.drifted == []


def test_manual_rules_are_few_and_name_their_proof():
    manual = [r for r in RULES.rules.values() if r.manuelle]
    assert len(manual) <= len(RULES.rules) // 5
    assert all(r.preuve_attendue for r in manual)


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator(RULES, REM, load_profile(), FIXTURES_DIR)


@pytest.mark.parametrize("rid", AUTOMATIC)
def test_each_automatic_rule_passes_and_fails_on_its_fixtures(rid, evaluator):
    assert rid in EXAMPLES, f"{rid}: no fixtures in rules/fixtures/"
    scenario = REM.requirement(rid).scenarios[0].id
    for case, expected in (("conforme", Outcome.CONFORME), ("non_conforme", Outcome.NON_CONFORME)):
        events = to_events(EXAMPLES[rid][case], scenario)
        (verdict,) = [
            v for v in evaluator.evaluate(events) if v.requirement == rid and v.scenario == scenario
        ]
        assert verdict.verdict is expected, (rid, case, verdict.reasons)
        assert verdict.reasons


@pytest.mark.parametrize("rid", AUTOMATIC)
def test_python_fallback_fires_exactly_like_durable_rules(rid):
    """The fallback used when durable_rules dies must mean the same: identical firings on the rule's fixtures."""
    from rules.engine import _evaluate_rule, _fork_call, _python_firings, _WorkerDied, facts_for

    rule = RULES.rules[rid]
    scenario = REM.requirement(rid).scenarios[0].id
    for case in ("conforme", "non_conforme"):
        facts = facts_for(rule, scenario, to_events(EXAMPLES[rid][case], scenario))
        try:
            durable = _fork_call(_evaluate_rule, rule, [(scenario, facts)])[scenario]
        except _WorkerDied:
            continue  # the case the fallback exists for; its verdicts are checked by the fixture test
        python = _python_firings(rule, facts)
        assert (python.triggers, python.discharged, python.forbidden) == (
            durable.triggers,
            {i: dict(d) for i, d in durable.discharged.items()},
            dict(durable.forbidden),
        ), (rid, case)
