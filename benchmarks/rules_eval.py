"""Evaluating a 1,000,000-event trace against every rule of our REM DCC (issue 3; target ≥ 20,000 events/s on
one core).

The trace: for every automatic rule, its two fixture traces replicated under its first scenario, each copy with
its own correlation values (document ids, users…) so copies do not join each other, interleaved with events of
types no rule reads (the engine never sees those: the prefilter drops them). Rules run one after the other in
their workers (one core); peak memory is the largest resident size of the parent or of any worker.
"""

from __future__ import annotations

import resource
import sys
import time

from benchmarks.report import write_section
from rem import default_rem_path
from rem.loader import load_rem
from rules.engine import Evaluator
from rules.examples import FIXTURES_DIR, load_examples, source_of
from rules.loader import load_rules
from rules.profile import load_profile
from rules.trace import Event
from rules.verdict import Outcome

TOTAL = 1_000_000
NOISE_SHARE = 0.5


def correlated_fields(rule) -> set[str]:
    fields = set()
    for pattern in (*rule.doit, *rule.ne_doit_pas):
        for own, theirs in pattern.correler:
            fields.update((own, theirs))
    return fields


def build_trace(total: int = TOTAL) -> list[Event]:
    rem = load_rem(default_rem_path()).rem
    rules = load_rules()
    examples = load_examples()
    automatic = [r for r in rules.rules.values() if not r.manuelle]
    per_rule = int(total * (1 - NOISE_SHARE)) // len(automatic)
    events: list[Event] = []
    seq = 0

    def add(scenario, event_type, data, artifacts=()):
        nonlocal seq
        seq += 1
        events.append(Event(f"e{seq:08d}", seq, "2026-11-24T00:00:00.000000Z", source_of(event_type), event_type,
                            data, scenario, tuple(artifacts)))

    for rule in sorted(automatic, key=lambda r: r.requirement):
        scenario = rem.requirement(rule.requirement).scenarios[0].id
        cases = examples[rule.requirement]["conforme"] + examples[rule.requirement]["non_conforme"]
        keys = correlated_fields(rule)
        copy = 0
        made = 0
        while made < per_rule:
            copy += 1
            for item in cases:
                data = {k: (f"{v}~{copy}" if k in keys and isinstance(v, str) else v) for k, v in item[1].items()}
                add(scenario, item[0], data, item[2] if len(item) > 2 else ())
                made += 1
                if seq % 2:  # unrelated traffic between them
                    add(scenario, "harness.heartbeat", {"n": seq})
    while len(events) < total:
        add(None, "harness.heartbeat", {"n": seq})
    return events[:total]


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main(total: int = TOTAL) -> None:
    t0 = time.perf_counter()
    events = build_trace(total)
    built = time.perf_counter() - t0
    rem = load_rem(default_rem_path()).rem
    evaluator = Evaluator(load_rules(), rem, load_profile(), FIXTURES_DIR)
    t1 = time.perf_counter()
    verdicts = evaluator.evaluate(events)
    elapsed = time.perf_counter() - t1
    engines = {v.engine for v in verdicts if v.engine}
    judged = sum(v.verdict in (Outcome.CONFORME, Outcome.NON_CONFORME) for v in verdicts)
    body = f"""
A trace of {len(events):,} events (half of them of types no rule reads) evaluated against the {len(evaluator.rules.rules)}
rules of our REM DCC ({judged} requirement × scenario verdicts reached by the engine; engines used:
{", ".join(sorted(engines))}). One core: each rule's worker runs after the previous one.

| measure | value |
|---|---|
| evaluation wall time | {elapsed:.1f} s |
| events per second | {len(events) / elapsed:,.0f} |
| peak resident memory (parent or worker) | {peak_rss_mib():,.0f} MiB |
| building the trace in memory (not part of the rate) | {built:.1f} s |

Target (issue 3): at least 20,000 events/s on one core.
"""
    write_section("rules_eval", body)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else TOTAL)
