"""Evaluates rules over a trace with durable_rules: one ruleset per rule, one durable_rules session per scenario.

How the rule model maps onto the engine (docs/rules.md says more):

- ``lorsque`` → a single-fact rule; each firing records an observed trigger.
- each ``doit`` → a two-fact rule ``all(t: trigger, f: obligation)`` joined on the correlated fields, with
  ``f.seq > t.seq`` (and ``f.seq <= t.seq + N`` for ``dans: N evenements``); each firing discharges ``t``.
  The engine reports matches, not absences: after the scenario's events are posted, a trigger with no discharge
  is the missing event — that difference is computed here, from the engine's firings.
- each ``ne_doit_pas`` → ``all(t: trigger, f: forbidden)``; each firing is a violation.

Events are asserted as facts (not posted as events) so that one event can take part in every rule that needs
it; every fact carries its unique event id (suffixed by its role). The scenario id is the durable_rules session
(``sid``): sessions never join each other, and a scenario's facts are retracted once it is judged, so memory stays
bounded by the largest scenario. Each rule runs in its own worker process (``_isolated``).
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durable import engine as durable_engine

from rem.model import Rem
from rules import preuve
from rules.expr import evaluate, membership_key, to_durable_dnf
from rules.loader import RuleSet
from rules.model import Pattern, Rule
from rules.trace import Event
from rules.verdict import Outcome, Verdict, combine


class EngineError(RuntimeError):
    """The engine failed on a rule (an action raised, or durable_rules refused a ruleset): stage ``evaluate``."""


class _WorkerDied(Exception):
    pass


class _QuietHost(durable_engine.Host):
    """A Host without the background dispatch threads: actions then run synchronously inside ``assert_facts``,
    in the calling thread, which keeps evaluation deterministic."""

    def _run(self) -> None:
        return None


@dataclass
class _Firings:
    triggers: set[str] = field(default_factory=set)
    discharged: dict[int, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    forbidden: dict[int, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    errors: list[str] = field(default_factory=list)
    engine: str = "durable_rules"


def _conjunction(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$and": parts} if len(parts) > 1 else parts[0]


def _conditions(
    pattern: Pattern, correlate: bool, extra: list[dict[str, Any]] | None = None, role: str = "f"
) -> list[dict[str, Any]]:
    """The pattern as flat conjunctions, one per disjunct of its condition (``rules.expr.to_durable_dnf``)."""
    disjuncts = to_durable_dnf(pattern.quand, trigger_alias="t") if pattern.quand is not None else [[]]
    correlation = (
        [{f"data.{own}": {"t": f"data.{theirs}"}} for own, theirs in pattern.correler] if correlate else []
    )
    conjunctions = []
    for leaves in disjuncts:
        tests = [*leaves, *correlation, *(extra or []), {"role": role}]
        joins = [t for t in tests if _refers_to_trigger(t)]
        plain = [t for t in tests if not _refers_to_trigger(t)]
        # The type and plain tests first, then an existence test for every field a join reads, then the joins:
        # durable_rules 2.0.28 crashes (segmentation fault) when a join reads a field the fact does not have.
        guards = [{"$ex": {field: 1}} for field in sorted({f for j in joins for f in _joined_fields(j)})]
        conjunctions.append(_conjunction([{"type": pattern.event}, *plain, *guards, *joins]))
    return conjunctions


def _refers_to_trigger(test: dict[str, Any]) -> bool:
    return '{"t": ' in json.dumps(test)


def _joined_fields(test: dict[str, Any]) -> list[str]:
    """The fields of this event a join test reads (``{"data.x": {"t": ...}}`` or ``{"$op": {"data.x": {...}}}``)."""
    ((key, value),) = test.items()
    if key.startswith("$"):
        return [k for k in value if k.startswith("data.")] if isinstance(value, dict) else []
    return [key] if key.startswith("data.") else []


def _ignore(c) -> None:
    return None


def compile_rule(rule: Rule, actions: _Firings | None = None) -> dict[str, Any]:
    """The durable_rules ruleset (JSON form) of one rule. ``actions`` receives the firings; without it the
    definition is returned with action names only (what ``rules explain`` shows). A condition with ``or`` becomes
    one durable_rules rule per disjunct (suffix ``~N``), all recording into the same place."""
    assert rule.lorsque is not None

    def record(kind: str, index: int):
        def run(c) -> None:
            try:
                matched = c._m  # durable_rules keeps the raw matched facts, by alias, on the closure
                trigger = _event_id(matched["t"]["id"]) if "t" in matched else "*"
                if kind == "trigger":
                    actions.triggers.add(trigger)
                elif kind == "doit":
                    actions.discharged[index][trigger].add(_event_id(matched["f"]["id"]))
                else:
                    actions.forbidden[index].add((trigger, _event_id(matched["f"]["id"])))
            except Exception as error:
                actions.errors.append(f"{rule.requirement} {kind}[{index}]: {error!r}")

        return run if actions is not None else f"{kind}[{index}]"

    definition: dict[str, Any] = {
        # Every asserted fact must match some rule, or durable_rules raises MessageNotHandledException for the
        # whole batch and drops its pending actions (tests/rules/test_durable_facts.py). This catch-all handles
        # them; "$ex" as a catch-all hangs the engine, a comparison on seq does not. Its second slot never
        # matches, so it handles every fact without ever running an action (an action per fact halved speed).
        "vu": {
            "all": [{"m": {"$gte": {"seq": 0}}}, {"n": {"type": "__jamais__"}}],
            "run": _ignore if actions is not None else "vu",
        },
    }

    def add(name: str, variants: list[list[dict[str, Any]]], action) -> None:
        for number, slots in enumerate(variants):
            key = name if len(variants) == 1 else f"{name}~{number}"
            definition[key] = {"all": slots, "run": action}

    triggers = _conditions(rule.lorsque, correlate=False, role="t")
    add("lorsque", [[{"t": t}] for t in triggers], record("trigger", 0))
    for index, obligation in enumerate(rule.doit):
        bound: list[dict[str, Any]] = [{"$gt": {"seq": {"t": "seq"}}}]
        if obligation.max_events is not None:
            bound.append({"$lte": {"seq": {"$add": {"$l": {"t": "seq"}, "$r": obligation.max_events}}}})
        followers = _conditions(obligation, correlate=True, extra=bound)
        add(
            f"doit_{index}",
            [[{"t": t}, {"f": f}] for t in triggers for f in followers],
            record("doit", index),
        )
    for index, prohibition in enumerate(rule.ne_doit_pas):
        if not prohibition.apres_declencheur and not prohibition.correler:
            # Not tied to the trigger: a single-fact rule. (In a two-fact rule one fact cannot fill both slots, so
            # an event that is at once the trigger and the forbidden event would never be reported.)
            forbidden = _conditions(prohibition, correlate=False)
            add(f"ne_doit_pas_{index}", [[{"f": f}] for f in forbidden], record("ne_doit_pas", index))
            continue
        after = [{"$gt": {"seq": {"t": "seq"}}}] if prohibition.apres_declencheur else []
        forbidden = _conditions(prohibition, correlate=True, extra=after)
        add(
            f"ne_doit_pas_{index}",
            [[{"t": t}, {"f": f}] for t in triggers for f in forbidden],
            record("ne_doit_pas", index),
        )
    return definition


def _describe(pattern: Pattern) -> str:
    text = pattern.event
    if pattern.quand_text:
        text += f" où {pattern.quand_text}"
    if pattern.correler:
        text += " corrélé sur " + ", ".join(o if o == t else f"{o}={t}" for o, t in pattern.correler)
    return text


def _fork_start(function, *args) -> tuple[int, int]:
    """Starts ``function(*args)`` in a forked child; ``_fork_finish`` collects it. Several may run at once."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            payload = pickle.dumps(("ok", function(*args)))
        except BaseException as error:
            payload = pickle.dumps(("error", f"{type(error).__name__}: {error}"))
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    return pid, read_end


def _fork_finish(pid: int, read_end: int):
    """The result of a child ``_fork_start`` began. A child that dies (durable_rules is C code and can crash) raises
    _WorkerDied here instead of killing the run."""
    with os.fdopen(read_end, "rb") as source:
        payload = source.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        raise _WorkerDied(f"the rule engine process died (signal {signal}, status {status})")
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise EngineError(value)
    return value


def _fork_call(function, *args):
    """``function(*args)`` in a forked child; its result comes back pickled."""
    return _fork_finish(*_fork_start(function, *args))


def facts_for(rule: Rule, scenario: str, events: Iterable[Event]) -> list[dict[str, Any]]:
    """The facts a rule's session receives: only events whose type some pattern names, one copy per role.

    An event that could be the trigger is asserted with role "t", one that could follow it with role "f" (both
    when its type is in both): durable_rules 2.0.28 crashes now and then (segmentation fault) when one fact can
    fill both slots of a join, as AUTH.02 and TRANS.04 showed; with roles no fact ever can."""
    assert rule.lorsque is not None
    trigger_type = rule.lorsque.event
    follower_types = {p.event for p in (*rule.doit, *rule.ne_doit_pas)}
    facts = []
    for e in events:
        for role, wanted in (("t", e.type == trigger_type), ("f", e.type in follower_types)):
            if wanted:
                facts.append(
                    {
                        "id": f"{e.id}#{role}",
                        "role": role,
                        "sid": scenario,
                        "seq": e.seq,
                        "type": e.type,
                        "data": _with_memberships(e.data),
                    }
                )
    return facts


def _with_memberships(data: Any) -> dict[str, Any]:
    """The event's data plus, beside each list of scalars ``x``, a map ``x__has`` of its members
    (``rules.expr.membership_key``), which list-membership tests read."""
    out = dict(data)
    for key, value in data.items():
        if isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value):
            out[f"{key}__has"] = {membership_key(v): True for v in value}
    return out


def _event_id(fact_id: str) -> str:
    return fact_id.rsplit("#", 1)[0]


WORKER_ATTEMPTS = 2


def _isolated(function, rule: Rule, batches, started: tuple[int, int] | None = None):
    """Runs a rule's evaluation in a worker, with one retry in a fresh interpreter and, if durable_rules dies
    again, the reference matcher. ``started``: the first attempt's child, already forked (``_fork_start``).

    durable_rules 2.0.28 dies (segmentation fault) on some traces, in a way that depends on the process' memory
    state (tests/rules/test_durable_facts.py pins the cases we could isolate). A fork shares its parent's heap
    layout, so the retry runs in a fresh interpreter. If that dies too, ``_python_firings`` — the same semantics
    in plain Python, checked against durable_rules on every rule's fixtures — judges the rule, and every verdict
    it gives says so (``Verdict.engine``): the fallback is never silent."""
    for attempt in range(1, WORKER_ATTEMPTS + 1):
        try:
            if attempt == 1:
                return _fork_finish(*(started or _fork_start(function, rule, batches)))
            return _spawn_call(function, rule, batches)
        except _WorkerDied:
            continue
    results = {scenario: _python_firings(rule, facts) for scenario, facts in batches}
    for firings in results.values():
        firings.engine = "python (durable_rules 2.0.28 died on this trace)"
    return results


def _matches(pattern: Pattern, fact: dict[str, Any], trigger: dict[str, Any] | None = None) -> bool:
    if fact["type"] != pattern.event:
        return False
    env = dict(fact["data"])
    if trigger is not None:
        env["trigger"] = trigger["data"]
        for own, theirs in pattern.correler:
            if (
                own not in fact["data"]
                or theirs not in trigger["data"]
                or fact["data"][own] != trigger["data"][theirs]
            ):
                return False
    return pattern.quand is None or evaluate(pattern.quand, env)


def _python_firings(rule: Rule, facts: list[dict[str, Any]]) -> _Firings:
    """The firings compile_rule's durable_rules ruleset gives, computed directly (the reference semantics)."""
    assert rule.lorsque is not None
    triggers = [f for f in facts if f["role"] == "t" and _matches(rule.lorsque, f)]
    followers = [f for f in facts if f["role"] == "f"]
    out = _Firings(triggers={_event_id(t["id"]) for t in triggers}, discharged={}, forbidden={})
    for index, obligation in enumerate(rule.doit):
        for t in triggers:
            for f in followers:
                bound = obligation.max_events is None or f["seq"] <= t["seq"] + obligation.max_events
                if f["seq"] > t["seq"] and bound and _matches(obligation, f, t):
                    out.discharged.setdefault(index, {}).setdefault(_event_id(t["id"]), set()).add(
                        _event_id(f["id"])
                    )
    for index, prohibition in enumerate(rule.ne_doit_pas):
        if not prohibition.apres_declencheur and not prohibition.correler:
            hits = {("*", _event_id(f["id"])) for f in followers if _matches(prohibition, f)}
        else:
            hits = {
                (_event_id(t["id"]), _event_id(f["id"]))
                for t in triggers
                for f in followers
                if (not prohibition.apres_declencheur or f["seq"] > t["seq"]) and _matches(prohibition, f, t)
            }
        if hits:
            out.forbidden[index] = hits
    return out


def _spawn_call(function, *args):
    """``function(*args)`` in a new Python interpreter (the slow, fully fresh way), result pickled back."""
    payload = pickle.dumps((function.__module__, function.__qualname__, args))
    code = (
        "import importlib, pickle, sys\n"
        "module, name, args = pickle.loads(sys.stdin.buffer.read())\n"
        "function = getattr(importlib.import_module(module), name)\n"
        "try:\n    out = ('ok', function(*args))\n"
        "except BaseException as error:\n    out = ('error', f'{type(error).__name__}: {error}')\n"
        "sys.stdout.buffer.write(pickle.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=payload, capture_output=True, timeout=600, check=False
    )
    if done.returncode != 0 or not done.stdout:
        raise _WorkerDied(f"the rule engine process died (exit {done.returncode})")
    kind, value = pickle.loads(done.stdout)
    if kind == "error":
        raise EngineError(value)
    return value


def _evaluate_rule(rule: Rule, batches: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, _Firings]:
    """Runs in a fresh worker process: one Host, one ruleset (durable_rules keeps rulesets process-wide, and
    several rulesets in one process have crashed it), every scenario of the rule as its own session."""
    host = _QuietHost()
    firings = _Firings()
    host.set_rulesets({"regle": compile_rule(rule, firings)})
    results: dict[str, _Firings] = {}
    for scenario, facts in batches:
        firings.triggers.clear()
        firings.discharged.clear()
        firings.forbidden.clear()
        try:
            host.assert_facts("regle", facts)
        except Exception as error:
            raise EngineError(
                f"{rule.file}:{rule.line}: {rule.requirement}: durable_rules could not evaluate "
                f"scenario {scenario}: {error}"
            ) from None
        if firings.errors:
            raise EngineError("; ".join(firings.errors))
        host.retract_facts("regle", facts)  # frees the scenario's facts before the next one
        results[scenario] = _Firings(
            set(firings.triggers),
            {i: {t: set(f) for t, f in d.items()} for i, d in firings.discharged.items()},
            {i: set(v) for i, v in firings.forbidden.items()},
        )
    return results


class Evaluator:
    """Evaluates one rule set over traces. Build it once; ``evaluate`` may be called for several traces."""

    def __init__(
        self,
        rules: RuleSet,
        rem: Rem | None = None,
        profile: dict[str, Any] | None = None,
        artifacts_dir: Path | None = None,
    ) -> None:
        self.rules = rules
        self.rem = rem
        self.profile = profile or {}
        self.artifacts_dir = artifacts_dir

    def _pairs(self, slices: dict[str, list[Event]]) -> list[tuple[str, str]]:
        if self.rem is not None:
            return [(r.id, s.id) for r in self.rem.requirements for s in r.scenarios]
        pairs = []
        for rid in sorted(self.rules.rules):
            scenarios = sorted(s for s in slices if s.startswith(rid + "."))
            pairs += [(rid, s) for s in scenarios] or [(rid, "")]
        return pairs

    def evaluate(self, events: Sequence[Event]) -> list[Verdict]:
        slices: dict[str, list[Event]] = defaultdict(list)
        shared: list[Event] = []
        for event in events:
            (slices[event.scenario] if event.scenario else shared).append(event)
        by_id = {e.id: e for e in events}
        pairs = self._pairs(slices)
        # First the engine: per rule, the scenarios it must judge, all in one isolated worker.
        work: dict[str, list[tuple[str, list[dict[str, Any]]]]] = defaultdict(list)
        for requirement, scenario in pairs:
            rule = self.rules.rules.get(requirement)
            if self._needs_engine(rule, slices.get(scenario)):
                ordered = sorted(itertools.chain(slices[scenario], shared), key=lambda e: e.seq)
                work[requirement].append((scenario, facts_for(rule, scenario, ordered)))
        firings: dict[tuple[str, str], _Firings] = {}
        # the rules' workers run a core's worth at a time (each is independent; a full recette has ~100)
        pending = list(work.items())
        width = max(1, os.cpu_count() or 1)
        while pending:
            wave, pending = pending[:width], pending[width:]
            started = [(r, b, _fork_start(_evaluate_rule, self.rules.rules[r], b)) for r, b in wave]
            for requirement, batches, child in started:
                results = _isolated(_evaluate_rule, self.rules.rules[requirement], batches, child)
                for scenario, result in results.items():
                    firings[(requirement, scenario)] = result
        return [
            self._verdict(
                requirement,
                scenario,
                self.rules.rules.get(requirement),
                slices.get(scenario, []),
                firings.get((requirement, scenario)),
                by_id,
            )
            for requirement, scenario in pairs
        ]

    def _needs_engine(self, rule: Rule | None, own: list[Event] | None) -> bool:
        return (
            rule is not None
            and not rule.manuelle
            and bool(own)
            and (rule.si is None or evaluate(rule.si, {"profile": self.profile}))
        )

    def _verdict(
        self,
        requirement: str,
        scenario: str,
        rule: Rule | None,
        own: list[Event],
        firings: _Firings | None,
        by_id: dict[str, Event],
    ) -> Verdict:
        if rule is None:
            return Verdict(requirement, scenario, Outcome.NON_EVALUE, ("aucune règle pour cette exigence",))
        common = {"rule_file": rule.file, "rule_sha256": self.rules.files.get(rule.file)}
        if rule.manuelle:
            return Verdict(
                requirement,
                scenario,
                Outcome.NON_EVALUE,
                (f"preuve manuelle attendue : {rule.preuve_attendue}",),
                manual_proof=rule.preuve_attendue,
                **common,
            )
        if rule.si is not None and not evaluate(rule.si, {"profile": self.profile}):
            return Verdict(
                requirement,
                scenario,
                Outcome.NON_APPLICABLE,
                (f"SI non satisfait par le profil : {rule.si_text}",),
                **common,
            )
        if not own:
            return Verdict(
                requirement,
                scenario,
                Outcome.NON_EVALUE,
                ("scénario non exécuté : aucun événement de ce scénario dans la trace",),
                **common,
            )
        return self._judge(rule, scenario, firings or _Firings(), by_id, common)

    def _judge(
        self, rule: Rule, scenario: str, firings: _Firings, by_id: dict[str, Event], common: dict
    ) -> Verdict:
        assert rule.lorsque is not None
        if not firings.triggers:
            return Verdict(
                rule.requirement,
                scenario,
                Outcome.NON_EVALUE,
                (f"déclencheur jamais observé : {_describe(rule.lorsque)}",),
                **common,
            )
        outcomes: list[Outcome] = []
        reasons: list[str] = []
        used: set[str] = set()
        artifacts: set[str] = set()
        ordered = sorted(firings.triggers, key=lambda i: by_id[i].seq)
        violations: dict[
            int, dict[str, list[str]]
        ] = {}  # per prohibition: trigger id -> forbidden ids, in order
        for index in range(len(rule.ne_doit_pas)):
            grouped: dict[str, list[str]] = defaultdict(list)
            for t_id, f_id in sorted(firings.forbidden.get(index, set())):
                grouped[t_id].append(f_id)
            violations[index] = grouped
        first_trigger = ordered[0]  # violations not tied to a trigger are reported once, with the first
        for trigger_id in ordered:
            trigger = by_id[trigger_id]
            used.add(trigger_id)
            failed = False
            for index, obligation in enumerate(rule.doit):
                followers = firings.discharged.get(index, {}).get(trigger_id, set())
                used.update(followers)
                if not followers:
                    failed = True
                    reasons.append(
                        f"après {trigger.type} {trigger.id} (seq {trigger.seq}) : aucun "
                        f"{_describe(obligation)}"
                        + (f" — {obligation.message}" if obligation.message else "")
                    )
            for index, prohibition in enumerate(rule.ne_doit_pas):
                mine = violations[index].get(trigger_id, [])
                if trigger_id == first_trigger:
                    mine = mine + violations[index].get("*", [])
                for f_id in mine:
                    failed = True
                    forbidden = by_id[f_id]
                    used.add(f_id)
                    artifacts.update(forbidden.artifacts)
                    reasons.append(
                        f"{forbidden.type} {forbidden.id} (seq {forbidden.seq}) interdit : "
                        f"{_describe(prohibition)}"
                        + (f" — {prohibition.message}" if prohibition.message else "")
                    )
            outcome = Outcome.NON_CONFORME if failed else Outcome.CONFORME
            for proof in rule.preuve:
                source_events = (
                    [trigger]
                    if proof.source == "declencheur"
                    else sorted(
                        (
                            by_id[i]
                            for i in firings.discharged.get(int(proof.source), {}).get(trigger_id, set())
                        ),
                        key=lambda e: e.seq,
                    )[:1]
                )
                available = tuple(a for e in source_events for a in e.artifacts)
                try:
                    holds, explanation = preuve.check(proof, available, self.artifacts_dir)
                except preuve.ArtifactUnavailable as missing:
                    outcome = combine([outcome, Outcome.NON_EVALUE])
                    reasons.append(f"preuve non vérifiable après {trigger.id} : {missing}")
                    continue
                artifacts.update(available[:1])
                if not holds:
                    outcome = Outcome.NON_CONFORME
                    reasons.append(
                        f"preuve non satisfaite après {trigger.id} : {explanation}"
                        + (f" — {proof.message}" if proof.message else "")
                    )
            outcomes.append(outcome)
        verdict = combine(outcomes)
        if verdict is Outcome.CONFORME:
            reasons.append(
                f"{len(firings.triggers)} déclencheur(s) observé(s) ({rule.lorsque.event}), "
                "toutes les obligations remplies, aucun événement interdit"
            )
        return Verdict(
            rule.requirement,
            scenario,
            verdict,
            tuple(reasons),
            tuple(sorted(used, key=lambda i: by_id[i].seq)),
            tuple(sorted(artifacts)),
            **common,
            engine=firings.engine,
        )


def report(
    verdicts: Iterable[Verdict], rules: RuleSet, rem: Rem | None, profile: dict[str, Any]
) -> dict[str, Any]:
    """The versioned results document every renderer reads (JSON with sorted keys: same input, same bytes)."""
    verdicts = list(verdicts)
    by_requirement: dict[str, list[Outcome]] = defaultdict(list)
    for v in verdicts:
        by_requirement[v.requirement].append(v.verdict)
    summary = defaultdict(int)
    for outcomes in by_requirement.values():
        summary[combine(outcomes).value] += 1
    return {
        "format": "dcc-recette/verdicts",
        "format_version": 1,
        "hash_algorithm": "sha256",
        "rem": {"file": rem.source, "version": rem.version, "sha256": rem.sha256} if rem else None,
        "rule_files": dict(sorted(rules.files.items())),
        "profile": profile,
        "summary": {
            "requirements": dict(sorted(summary.items())),
            "verdicts": dict(sorted(_count(v.verdict.value for v in verdicts).items())),
        },
        "requirements": {rid: combine(o).value for rid, o in sorted(by_requirement.items())},
        "verdicts": [v.to_json() for v in verdicts],
    }


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return counts


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
