"""The evaluator: verdict properties (hypothesis), determinism, drift detection and the CLI a GRADeS replays."""

from __future__ import annotations

import dataclasses
import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from rem import default_rem_path
from rem.loader import load_rem
from rem.writer import write_rem
from rules.engine import Evaluator, dumps, report
from rules.loader import RuleSet, load_rule_file
from rules.trace import Event, write_trace
from rules.verdict import Outcome

RULE = textwrap.dedent(
    f"""\
    rules:
      T.01:
        rem_text_sha256: '{"b" * 64}'
        lorsque: {{event: document.status_changed, quand: 'to == "valide"'}}
        doit:
          - {{event: dmp.provide_and_register, quand: 'result == "success"', correler: {{unique_id: document_id}}}}
        ne_doit_pas:
          - {{event: dmp.provide_and_register, quand: '"INVISIBLE_PATIENT" in codes', correler: {{unique_id: document_id}}}}
    """
)
SCENARIO = "T.01.01"


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "T.yaml"
    path.write_text(RULE)
    ruleset = RuleSet()
    load_rule_file(path, ruleset)
    assert ruleset.errors == []
    return Evaluator(ruleset)


def verdict(evaluator, items):
    events = [
        Event(f"e{i:04d}", i, "2026-01-01T00:00:00Z", src, typ, data, SCENARIO)
        for i, (src, typ, data) in enumerate(items, start=1)
    ]
    try:
        (v,) = [v for v in evaluator.evaluate(events) if v.requirement == "T.01"]
    except Exception:
        import json as _j

        open("/tmp/crash-items.json", "a").write(_j.dumps(items) + "\n")
        raise
    return v


def validated(doc):
    return ("dcc", "document.status_changed", {"document_id": doc, "to": "valide"})


def shared(doc, codes=("N",)):
    return ("dmp", "dmp.provide_and_register", {"unique_id": doc, "result": "success", "codes": list(codes)})


def oracle(items):
    """The rule's meaning, computed directly: every validated document is later shared, none invisible."""
    triggers = [(i, d["document_id"]) for i, (_, t, d) in enumerate(items) if t == "document.status_changed"]
    if not triggers:
        return Outcome.NON_EVALUE
    for i, doc in triggers:
        later = [
            d
            for j, (_, t, d) in enumerate(items)
            if j > i and t == "dmp.provide_and_register" and d["unique_id"] == doc
        ]
        if not later or any("INVISIBLE_PATIENT" in d["codes"] for d in later):
            return Outcome.NON_CONFORME
    return Outcome.CONFORME


DOCS = st.sampled_from(["D1", "D2", "D3"])
EVENTS = st.lists(
    st.one_of(
        DOCS.map(validated),
        st.tuples(DOCS, st.sampled_from([("N",), ("N", "INVISIBLE_PATIENT")])).map(
            lambda x: shared(x[0], x[1])
        ),
    ),
    max_size=8,
)
NOISE = st.lists(
    st.tuples(
        st.just("dcc"),
        st.sampled_from(["user.login", "audit.recorded", "patient.created"]),
        st.fixed_dictionaries({"document_id": DOCS}),
    ),
    max_size=4,
)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(EVENTS)
def test_verdict_matches_the_rule_meaning(evaluator, items):
    """An obligation is discharged iff a matching correlated event follows its trigger; a forbidden one fails."""
    result = verdict(evaluator, items)
    if not items:
        assert result.verdict is Outcome.NON_EVALUE
    else:
        assert result.verdict is oracle(items), result.reasons


@SETTINGS
@given(EVENTS, NOISE, st.randoms())
def test_unrelated_events_never_change_a_verdict(evaluator, items, noise, rnd):
    mixed = list(items)
    for event in noise:
        mixed.insert(rnd.randint(0, len(mixed)), event)
    if items:
        assert verdict(evaluator, mixed).verdict is verdict(evaluator, items).verdict


@SETTINGS
@given(st.lists(st.booleans(), min_size=4, max_size=4), st.randoms())
def test_reordering_independent_documents_never_changes_verdicts(evaluator, shared_flags, rnd):
    streams = {
        "D1": [validated("D1"), shared("D1")] if shared_flags[0] else [validated("D1")],
        "D2": [validated("D2"), shared("D2", ("N", "INVISIBLE_PATIENT") if shared_flags[1] else ("N",))],
    }

    def interleave():
        queues = {k: list(v) for k, v in streams.items()}
        out = []
        while any(queues.values()):
            key = rnd.choice([k for k, q in queues.items() if q])
            out.append(queues[key].pop(0))
        return out

    assert verdict(evaluator, interleave()).verdict is verdict(evaluator, interleave()).verdict


def test_same_trace_same_bytes(evaluator):
    items = [validated("D1"), shared("D1"), validated("D2"), shared("D2", ("INVISIBLE_PATIENT",))]
    events = [
        Event(f"e{i}", i, "2026-01-01T00:00:00Z", s, t, d, SCENARIO) for i, (s, t, d) in enumerate(items, 1)
    ]
    first = dumps(report(evaluator.evaluate(events), evaluator.rules, None, {}))
    second = dumps(report(evaluator.evaluate(list(events)), evaluator.rules, None, {}))
    assert first == second
    document = json.loads(first)
    (row,) = document["verdicts"]
    assert row["verdict"] == "non conforme" and row["events"] == ["e1", "e2", "e3", "e4"]


def test_editing_one_statement_drifts_exactly_that_rule(tmp_path, capsys):
    rem = load_rem(default_rem_path()).rem
    edited = tuple(
        dataclasses.replace(r, statement=r.statement + " Il DOIT aussi le journaliser.")
        if r.id == "DMP/ALIM.02"
        else r
        for r in rem.requirements
    )
    path = write_rem(dataclasses.replace(rem, requirements=edited), tmp_path / "REM_DCC_2025.02.xlsx")
    assert main(["rules", "check", "--rem", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [d["requirement"] for d in out["drifted"]] == ["DMP/ALIM.02"]
    assert out["unbound"] == [] and out["orphans"] == [] and out["errors"] == []
    # whitespace-only retyping is not drift
    retyped = tuple(
        dataclasses.replace(r, statement=r.statement.replace(" ", "  \u00a0")) for r in rem.requirements
    )
    path = write_rem(dataclasses.replace(rem, requirements=retyped), tmp_path / "REM_retyped.xlsx")
    assert main(["rules", "check", "--rem", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drifted"] == []


def test_rules_check_on_our_rem_is_clean(capsys):
    assert main(["rules", "check", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["unbound"], out["orphans"], out["drifted"], out["errors"]) == ([], [], [], [])
    assert len(out["manual"]) == 6 and len(out["automatic"]) == 108


def test_rules_eval_on_a_hand_written_trace(tmp_path, capsys):
    """Two scenarios of the REM replayed offline: one DMP deposit is right, one FRCP goes visible too early."""

    def ev(n, scenario, typ, src, **data):
        return Event(f"e{n:03d}", n, "2026-11-24T10:00:00.000000Z", src, typ, data, scenario)

    trace = tmp_path / "trace.jsonl"
    write_trace(
        trace,
        [
            ev(
                1,
                "DMP/ALIM.01.01",
                "document.status_changed",
                "dcc",
                document_id="F1",
                kind="FRCP",
                to="valide",
                identity_status="qualifiee",
            ),
            ev(
                2,
                "DMP/ALIM.01.01",
                "dmp.provide_and_register",
                "dmp",
                unique_id="F1",
                result="success",
                format_code="urn:asip:ci-sis:frcp:2011",
                type_code="34794-8",
            ),
            ev(
                3,
                "DMP/ALIM.02.01",
                "dmp.provide_and_register",
                "dmp",
                unique_id="F2",
                result="success",
                type_code="34794-8",
                pps_in_dmp=False,
                invisible_patient=False,
                confidentiality_codes=["N"],
            ),
        ],
    )
    assert main(["rules", "eval", str(trace), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    rows = {(v["requirement"], v["scenario"]): v for v in document["verdicts"]}
    assert rows[("DMP/ALIM.01", "DMP/ALIM.01.01")]["verdict"] == "conforme"
    bad = rows[("DMP/ALIM.02", "DMP/ALIM.02.01")]
    assert bad["verdict"] == "non conforme" and "FRCP visible au patient" in bad["reasons"][0]
    assert rows[("DOC.01", "DOC.01.01")]["verdict"] == "non évalué"
    assert document["rem"]["version"] == "2025.01" and document["format_version"] == 1
    assert main(["rules", "eval", str(trace)]) == 1
    human = capsys.readouterr().out
    assert "DMP/ALIM.02" in human and "non conforme" in human and "absent from the trace" in human


def test_rules_eval_refuses_a_broken_trace(tmp_path, capsys):
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"id": "e1", "seq": 1, "time": "t", "source": "dcc", "type": "a.b"}\n{not json\n')
    assert main(["rules", "eval", str(trace)]) == 2
    assert "trace.jsonl:2: not JSON" in capsys.readouterr().err


def test_rules_explain_shows_text_and_rule(capsys):
    assert main(["rules", "explain", "DMP/ALIM.02"]) == 0
    out = capsys.readouterr().out
    assert "INVISIBLE_PATIENT" in out and "ne_doit_pas" in out and "durable_rules ruleset" in out
    assert main(["rules", "explain", "DMP/ACC.01"]) == 0
    assert "manuelle" in capsys.readouterr().out
