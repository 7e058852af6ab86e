"""The condition language and the rule-file loader: what parses, what is refused, and where errors point."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.expr import ExprError, evaluate, parse, to_durable_dnf
from rules.loader import RuleSet, load_rule_file
from rules.verdict import Outcome, combine

SHA = "a" * 64


@pytest.mark.parametrize(
    "text, env, expected",
    [
        ('to == "valide"', {"to": "valide"}, True),
        ('to == "valide"', {}, False),
        ("version > 1 and version <= 3", {"version": 2}, True),
        ('kind in ["FRCP", "PPS"]', {"kind": "CR-GM"}, False),
        ('"INVISIBLE_PATIENT" in codes', {"codes": ["N", "INVISIBLE_PATIENT"]}, True),
        ("not exists author", {"author": "u1"}, False),
        ('subject ~= "^XDM/1.0"', {"subject": "XDM/1.0/DDM+PPS"}, True),
        ("document_id == trigger.document_id", {"document_id": "D1", "trigger": {"document_id": "D1"}}, True),
        ('a == "x" or (b == 1 and not c == 2)', {"b": 1, "c": 3}, True),
    ],
)
def test_conditions_evaluate(text, env, expected):
    assert evaluate(parse(text), env) is expected


@pytest.mark.parametrize(
    "text, message",
    [
        ('to = "valide"', "unexpected character"),
        ("to ==", "unexpected end of condition"),
        ('"a" == "b"', "needs a field"),
        ("(a == 1", r"missing '\)'"),
        ('x ~= "("', "bad regular expression"),
        ("exists 3", "'exists' takes a field"),
    ],
)
def test_bad_conditions_are_refused_with_a_column(text, message):
    with pytest.raises(ExprError, match=message):
        parse(text)


def test_what_durable_rules_cannot_express_is_refused_at_compile():
    with pytest.raises(ExprError, match="cannot negate a list membership"):
        to_durable_dnf(parse('not "X" in codes'))
    with pytest.raises(ExprError, match="crashes on a '!=' join"):
        to_durable_dnf(parse("a != trigger.a"))
    with pytest.raises(ExprError, match="belongs in 'lorsque'"):
        to_durable_dnf(parse('trigger.a == "x"'))


def test_a_negated_comparison_also_matches_an_absent_field():
    assert to_durable_dnf(parse('not (x == "a")')) == [[{"$nex": {"data.x": 1}}], [{"$neq": {"data.x": "a"}}]]
    assert evaluate(parse('not (x == "a")'), {}) is True and evaluate(parse('x != "a"'), {}) is False


def test_dnf_expands_or_into_flat_conjunctions():
    dnf = to_durable_dnf(parse("(a == 1 or b == 2) and c == 3"))
    assert dnf == [[{"data.a": 1}, {"data.c": 3}], [{"data.b": 2}, {"data.c": 3}]]


def test_outcomes_combine_strongest_first():
    assert combine([Outcome.CONFORME, Outcome.NON_CONFORME]) is Outcome.NON_CONFORME
    assert combine([Outcome.CONFORME, Outcome.NON_EVALUE]) is Outcome.NON_EVALUE
    assert combine([Outcome.NON_APPLICABLE, Outcome.CONFORME]) is Outcome.CONFORME
    assert combine([Outcome.NON_APPLICABLE]) is Outcome.NON_APPLICABLE
    assert combine([]) is Outcome.NON_EVALUE


def _load(tmp_path, text):
    path = tmp_path / "X.yaml"
    path.write_text(textwrap.dedent(text))
    ruleset = RuleSet()
    load_rule_file(path, ruleset)
    return ruleset


@pytest.mark.parametrize(
    "body, line, message",
    [
        (
            f"      rem_text_sha256: '{SHA}'\n      lorsque: {{event: a.b}}\n      doti: []\n",
            2,
            "unknown key(s) doti",
        ),
        (f"      rem_text_sha256: '{SHA}'\n      doit: [{{event: a.b}}]\n", 2, "needs 'lorsque'"),
        (
            f"      rem_text_sha256: '{SHA}'\n      lorsque: {{event: ab}}\n      doit: [{{event: a.b}}]\n",
            2,
            "dotted event type",
        ),
        (
            f"      rem_text_sha256: '{SHA}'\n      lorsque: {{event: a.b, quand: 'x =='}}\n      doit: [{{event: a.b}}]\n",
            2,
            "lorsque quand: unexpected end of condition",
        ),
        (
            "      rem_text_sha256: 12\n      manuelle: true\n      preuve_attendue: x\n",
            2,
            "quoted 64-hex sha256",
        ),
        (f"      rem_text_sha256: '{SHA}'\n      manuelle: true\n", 2, "names the proof"),
    ],
)
def test_rule_file_errors_name_file_line_and_rule(tmp_path, body, line, message):
    ruleset = _load(tmp_path, "rules:\n  # a comment\n    R.01:\n" + body)
    (error,) = ruleset.errors
    assert (error.stage, error.file, error.requirement) == ("load", "X.yaml", "R.01")
    assert error.line == 3 and message in error.message
    assert "R.01" not in ruleset.rules


def test_invalid_yaml_names_its_line(tmp_path):
    ruleset = _load(tmp_path, "rules:\n  R.01: {a: [\n")
    (error,) = ruleset.errors
    assert error.stage == "load" and error.line is not None and "not valid YAML" in error.message


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_parser_never_crashes_on_arbitrary_text(text):
    try:
        node = parse(text)
    except ExprError:
        return
    evaluate(node, {})
