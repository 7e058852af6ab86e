"""What durable_rules 2.0.28 does that the rule model has to work around, shown on the engine itself.

docs/rules.md ("durable_rules: known facts and how we handle them") points at each of these tests.
"""

from __future__ import annotations

import functools
import itertools

import pytest
from durable import engine

from rules.engine import _fork_call


def in_child(test):
    """Runs the test body in a forked child: these tests drive durable_rules where it misbehaves, and a crash of
    its C code must fail one test, not kill the test run."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        _fork_call(test, *args, **kwargs)

    return wrapper


_names = itertools.count(1)


class Host(engine.Host):
    def _run(self):  # no background dispatcher: actions run synchronously (rules.engine does the same)
        return None


def _host(rules):
    host = Host()
    name = f"facts_test_{next(_names)}"
    host.set_rulesets({name: rules})
    return host, name


FACTS = [
    {"id": "a1", "sid": "s", "seq": 1, "type": "a", "data": {"doc": "D1"}},
    {"id": "b2", "sid": "s", "seq": 2, "type": "b", "data": {"doc": "D2", "codes": ["N", "X"], "k": "1"}},
]


def _pairs(follower):
    hits = []
    host, name = _host(
        {"r": {"all": [{"t": {"type": "a"}}, {"f": follower}], "run": lambda c: hits.append(c._m["f"]["id"])}}
    )
    host.assert_facts(name, [dict(f) for f in FACTS])
    return hits


@in_child
def test_an_unhandled_fact_drops_the_batch_actions():
    """A fact that matches no pattern makes assert_facts raise MessageNotHandledException, and the matches of the
    other facts of the batch never reach their action. rules.engine adds a catch-all rule ("vu") to every
    ruleset; with it the same batch gives its match."""
    hits = []
    follower = {"$and": [{"type": "b"}, {"data.k": "2"}, {"data.doc": {"t": "data.doc"}}]}
    facts = [*FACTS, {"id": "b3", "sid": "s", "seq": 3, "type": "b", "data": {"doc": "D1", "k": "2"}}]

    def rules():  # durable_rules deletes "run" from the definition it is given: a fresh one each time
        return {
            "r": {
                "all": [{"t": {"type": "a"}}, {"f": follower}],
                "run": lambda c: hits.append(c._m["f"]["id"]),
            }
        }

    host, name = _host(rules())
    with pytest.raises(engine.MessageNotHandledException):
        host.assert_facts(name, [dict(f) for f in facts])
    assert hits == []
    host, name = _host({**rules(), "vu": {"all": [{"m": {"$gte": {"seq": 0}}}], "run": lambda c: None}})
    host.assert_facts(name, [dict(f) for f in facts])
    assert hits == ["b3"]


@in_child
def test_action_exceptions_are_swallowed_into_the_state():
    """An exception raised in an action does not reach the caller: rules.engine catches it in its own action
    wrapper and raises EngineError after the batch."""

    def boom(c):
        raise RuntimeError("boom")

    host, name = _host({"r": {"all": [{"t": {"type": "a"}}], "run": boom}})
    host.assert_facts(name, [dict(FACTS[0])])
    assert "boom" in str(host.get_state(name, "s").get("exception", ""))


@in_child
def test_identical_facts_are_rejected():
    """Asserting the same fact twice raises: every fact rules.engine asserts carries its unique event id, and a
    trace with a duplicate id is refused before the engine (rules.trace)."""
    host, name = _host({"r": {"all": [{"t": {"type": "a"}}], "run": lambda c: None}})
    host.assert_fact(name, dict(FACTS[0]))
    with pytest.raises(engine.MessageObservedException):
        host.assert_fact(name, dict(FACTS[0]))


@in_child
def test_rulesets_cannot_be_redefined():
    """Ruleset names are process-wide: rules.engine gives each compiled rule a fresh number."""
    host = Host()
    host.set_rulesets({"facts_test_fixed": {"r": {"all": [{"t": {"type": "a"}}], "run": lambda c: None}}})
    with pytest.raises(Exception, match="already registered"):
        host.set_rulesets({"facts_test_fixed": {"r": {"all": [{"t": {"type": "a"}}], "run": lambda c: None}}})


@in_child
def test_sessions_do_not_join_and_retracting_frees_facts():
    """One session (sid) per scenario: facts of two sessions never join; retracting a scenario's facts lets the
    same facts be asserted again (rules.engine retracts; delete_state crashed the process in our runs)."""
    hits = []
    host, name = _host(
        {
            "r": {
                "all": [
                    {"t": {"type": "a"}},
                    {"f": {"$and": [{"type": "b"}, {"$gt": {"seq": {"t": "seq"}}}]}},
                ],
                "run": lambda c: hits.append(c.s["sid"]),
            }
        }
    )
    host.assert_facts(name, [{**FACTS[0], "sid": "s1"}])
    host.assert_facts(name, [{**FACTS[1], "sid": "s2"}])
    assert hits == []
    host.retract_facts(name, [{**FACTS[0], "sid": "s1"}])
    host.assert_facts(name, [{**FACTS[0], "sid": "s1"}])  # accepted again: the fact was retracted


@in_child
def test_list_fields_cannot_be_compared_to_a_trigger_field():
    """Equality between two list-valued fields fails the whole assert (error 312), and deleting the session
    afterwards crashes the process. Rules compare scalars (counts, ids); rules.engine turns the failure into an
    EngineError naming the rule and never deletes a failed session."""
    import durable_rules_engine

    host, name = _host(
        {
            "r": {
                "all": [{"t": {"type": "a"}}, {"f": {"$and": [{"type": "b"}, {"data.l": {"t": "data.l"}}]}}],
                "run": lambda c: None,
            },
            "vu": {"all": [{"m": {"$gte": {"seq": 0}}}], "run": lambda c: None},
        }
    )
    with pytest.raises(durable_rules_engine.error, match="312"):
        host.assert_facts(name, [{**FACTS[0], "data": {"l": [1]}}, {**FACTS[1], "data": {"l": [1]}}])
