"""Evaluates rules over a trace with durable_rules: one ruleset per rule, one durable_rules session per scenario.

How the rule model maps onto the engine (docs/rules.md says more):

- ``lorsque`` → a single-fact rule; each firing records an observed trigger.
- each ``doit`` → a two-fact rule ``all(t: trigger, f: obligation)`` joined on the correlated fields, with
  ``f.seq > t.seq`` (and ``f.seq <= t.seq + N`` for ``dans: N evenements``); each firing discharges ``t``.
  The engine reports matches, not absences: after the scenario's events are posted, a trigger with no discharge
  is the missing event — that difference is computed here, from the engine's firings.
- each ``ne_doit_pas`` → ``all(t: trigger, f: forbidden)``; each firing is a violation.

Events are asserted as facts (not posted as events) so that one event can take part in every rule that needs
it; every fact carries its unique event id. The scenario id is the durable_rules session (``sid``): sessions never
join each other, and each is deleted once evaluated, so memory stays bounded by the largest scenario.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durable import engine as durable_engine

from rem.model import Rem
from rules import preuve
from rules.expr import evaluate, to_durable
from rules.loader import RuleSet
from rules.model import Pattern, Rule
from rules.trace import Event
from rules.verdict import Outcome, Verdict, combine

_RULESET_NUMBERS = itertools.count(1)


class EngineError(RuntimeError):
    """The engine failed on a rule (an action raised, or durable_rules refused a ruleset): stage ``evaluate``."""


class _QuietHost(durable_engine.Host):
    """A Host without the background dispatch threads: actions then run synchronously inside ``assert_facts``,
    in the calling thread, which keeps evaluation deterministic."""

    def _run(self) -> None:
        return None


@dataclass
class _Firings:
    triggers: set[str] = field(default_factory=set)
    discharged: dict[int, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    forbidden: dict[int, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    errors: list[str] = field(default_factory=list)


def _conjunction(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One flat ``$and``, the form durable_rules' own DSL generates (a nested conjunction once gave us a wrong
    correlation, in a batch that also held unhandled facts; flat ones never have)."""
    flat: list[dict[str, Any]] = []
    for part in parts:
        flat.extend(part["$and"] if set(part) == {"$and"} else [part])
    return {"$and": flat} if len(flat) > 1 else flat[0]


def _condition(pattern: Pattern, correlate: bool, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": pattern.event}]
    if pattern.quand is not None:
        parts.append(to_durable(pattern.quand, trigger_alias="t"))
    if correlate:
        parts += [{f"data.{own}": {"t": f"data.{theirs}"}} for own, theirs in pattern.correler]
    return _conjunction(parts + (extra or []))


def _ignore(c) -> None:
    return None


def compile_rule(rule: Rule, actions: _Firings | None = None) -> dict[str, Any]:
    """The durable_rules ruleset (JSON form) of one rule. ``actions`` receives the firings; without it the
    definition is returned with action names only (what ``rules explain`` shows)."""
    assert rule.lorsque is not None

    def record(kind: str, index: int):
        def run(c) -> None:
            try:
                matched = c._m  # durable_rules keeps the raw matched facts, by alias, on the closure
                trigger = matched["t"]["id"] if "t" in matched else "*"
                if kind == "trigger":
                    actions.triggers.add(trigger)
                elif kind == "doit":
                    actions.discharged[index][trigger].add(matched["f"]["id"])
                else:
                    actions.forbidden[index].add((trigger, matched["f"]["id"]))
            except Exception as error:  # noqa: BLE001 - durable_rules would swallow it into state['exception']
                actions.errors.append(f"{rule.requirement} {kind}[{index}]: {error!r}")

        return run if actions is not None else f"{kind}[{index}]"

    trigger = _condition(rule.lorsque, correlate=False)
    definition: dict[str, Any] = {
        # Every asserted fact must match some rule, or durable_rules raises MessageNotHandledException for the
        # whole batch and drops its pending actions (tests/rules/test_durable_facts.py). This catch-all handles
        # them; "$ex" as a catch-all hangs the engine, a comparison on seq does not.
        "vu": {"all": [{"m": {"$gte": {"seq": 0}}}], "run": _ignore if actions is not None else "vu"},
        "lorsque": {"all": [{"t": trigger}], "run": record("trigger", 0)},
    }
    for index, obligation in enumerate(rule.doit):
        bound: list[dict[str, Any]] = [{"$gt": {"seq": {"t": "seq"}}}]
        if obligation.max_events is not None:
            bound.append({"$lte": {"seq": {"$add": {"$l": {"t": "seq"}, "$r": obligation.max_events}}}})
        follower = _condition(obligation, correlate=True, extra=bound)
        definition[f"doit_{index}"] = {"all": [{"t": trigger}, {"f": follower}], "run": record("doit", index)}
    for index, prohibition in enumerate(rule.ne_doit_pas):
        if not prohibition.apres_declencheur and not prohibition.correler:
            # Not tied to the trigger: a single-fact rule. (In a two-fact rule one fact cannot fill both slots, so
            # an event that is at once the trigger and the forbidden event would never be reported.)
            forbidden = _condition(prohibition, correlate=False)
            definition[f"ne_doit_pas_{index}"] = {"all": [{"f": forbidden}], "run": record("ne_doit_pas", index)}
            continue
        after = [{"$gt": {"seq": {"t": "seq"}}}] if prohibition.apres_declencheur else []
        forbidden = _condition(prohibition, correlate=True, extra=after)
        definition[f"ne_doit_pas_{index}"] = {
            "all": [{"t": trigger}, {"f": forbidden}],
            "run": record("ne_doit_pas", index),
        }
    return definition


def _describe(pattern: Pattern) -> str:
    text = pattern.event
    if pattern.quand_text:
        text += f" où {pattern.quand_text}"
    if pattern.correler:
        text += " corrélé sur " + ", ".join(o if o == t else f"{o}={t}" for o, t in pattern.correler)
    return text


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
        self._host = _QuietHost()
        self._rulesets: dict[str, tuple[str, _Firings]] = {}

    def _ruleset(self, rule: Rule) -> tuple[str, _Firings]:
        if rule.requirement not in self._rulesets:
            firings = _Firings()
            # durable_rules keeps rulesets process-wide and refuses a name twice: each gets a fresh number
            name = f"dcc_recette_{next(_RULESET_NUMBERS)}"
            try:
                self._host.set_rulesets({name: compile_rule(rule, firings)})
            except Exception as error:
                raise EngineError(f"{rule.file}:{rule.line}: {rule.requirement}: durable_rules refused the rule: {error}") from None
            self._rulesets[rule.requirement] = (name, firings)
        return self._rulesets[rule.requirement]

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
        verdicts = []
        for requirement, scenario in self._pairs(slices):
            rule = self.rules.rules.get(requirement)
            verdicts.append(self._verdict(requirement, scenario, rule, slices.get(scenario, []), shared, by_id))
        return verdicts

    def _verdict(
        self,
        requirement: str,
        scenario: str,
        rule: Rule | None,
        own: list[Event],
        shared: list[Event],
        by_id: dict[str, Event],
    ) -> Verdict:
        if rule is None:
            return Verdict(requirement, scenario, Outcome.NON_EVALUE, ("aucune règle pour cette exigence",))
        common = {"rule_file": rule.file, "rule_sha256": self.rules.files.get(rule.file)}
        if rule.manuelle:
            return Verdict(requirement, scenario, Outcome.NON_EVALUE,
                           (f"preuve manuelle attendue : {rule.preuve_attendue}",),
                           manual_proof=rule.preuve_attendue, **common)
        if rule.si is not None and not evaluate(rule.si, {"profile": self.profile}):
            return Verdict(requirement, scenario, Outcome.NON_APPLICABLE,
                           (f"SI non satisfait par le profil : {rule.si_text}",), **common)
        if not own:
            return Verdict(requirement, scenario, Outcome.NON_EVALUE,
                           ("scénario non exécuté : aucun événement de ce scénario dans la trace",), **common)
        firings = self._run(rule, scenario, own, shared)
        return self._judge(rule, scenario, firings, by_id, common)

    def _run(self, rule: Rule, scenario: str, own: list[Event], shared: list[Event]) -> _Firings:
        name, firings = self._ruleset(rule)
        firings.triggers.clear()
        firings.discharged.clear()
        firings.forbidden.clear()
        firings.errors.clear()
        wanted = rule.event_types
        facts = [
            {"id": e.id, "sid": scenario, "seq": e.seq, "type": e.type, "data": dict(e.data)}
            for e in sorted(itertools.chain(own, shared), key=lambda e: e.seq)
            if e.type in wanted  # only what some pattern of this rule can match is asserted
        ]
        if facts:
            try:
                self._host.assert_facts(name, facts)
            finally:
                self._host.delete_state(name, scenario)
        if firings.errors:
            raise EngineError("; ".join(firings.errors))
        return firings

    def _judge(self, rule: Rule, scenario: str, firings: _Firings, by_id: dict[str, Event], common: dict) -> Verdict:
        assert rule.lorsque is not None
        if not firings.triggers:
            return Verdict(rule.requirement, scenario, Outcome.NON_EVALUE,
                           (f"déclencheur jamais observé : {_describe(rule.lorsque)}",), **common)
        outcomes: list[Outcome] = []
        reasons: list[str] = []
        used: set[str] = set()
        artifacts: set[str] = set()
        ordered = sorted(firings.triggers, key=lambda i: by_id[i].seq)
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
                    reasons.append(f"après {trigger.type} {trigger.id} (seq {trigger.seq}) : aucun "
                                   f"{_describe(obligation)}" + (f" — {obligation.message}" if obligation.message else ""))
            for index, prohibition in enumerate(rule.ne_doit_pas):
                for t_id, f_id in sorted(firings.forbidden.get(index, set())):
                    if t_id != trigger_id and not (t_id == "*" and trigger_id == first_trigger):
                        continue
                    failed = True
                    forbidden = by_id[f_id]
                    used.add(f_id)
                    artifacts.update(forbidden.artifacts)
                    reasons.append(f"{forbidden.type} {forbidden.id} (seq {forbidden.seq}) interdit : "
                                   f"{_describe(prohibition)}" + (f" — {prohibition.message}" if prohibition.message else ""))
            outcome = Outcome.NON_CONFORME if failed else Outcome.CONFORME
            for proof in rule.preuve:
                source_events = [trigger] if proof.source == "declencheur" else sorted(
                    (by_id[i] for i in firings.discharged.get(int(proof.source), {}).get(trigger_id, set())),
                    key=lambda e: e.seq)[:1]
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
                    reasons.append(f"preuve non satisfaite après {trigger.id} : {explanation}"
                                   + (f" — {proof.message}" if proof.message else ""))
            outcomes.append(outcome)
        verdict = combine(outcomes)
        if verdict is Outcome.CONFORME:
            reasons.append(f"{len(firings.triggers)} déclencheur(s) observé(s) ({rule.lorsque.event}), "
                           "toutes les obligations remplies, aucun événement interdit")
        return Verdict(rule.requirement, scenario, verdict, tuple(reasons),
                       tuple(sorted(used, key=lambda i: by_id[i].seq)), tuple(sorted(artifacts)), **common)


def report(verdicts: Iterable[Verdict], rules: RuleSet, rem: Rem | None, profile: dict[str, Any]) -> dict[str, Any]:
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
        "summary": {"requirements": dict(sorted(summary.items())),
                    "verdicts": dict(sorted(_count(v.verdict.value for v in verdicts).items()))},
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
