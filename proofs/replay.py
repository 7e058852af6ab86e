"""Replays a bundle's verdicts: the rules evaluated again on ``trace.jsonl`` with the run's profile, combined with
each scenario's execution exactly as the run did (``harness.runner.apply_execution``), then compared with what the
manifest claims. A difference means the bundle's claims were not produced by this trace and these rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.runner import apply_execution
from proofs.findings import Check, Status, Verification
from rem.model import Nature, Rem, Requirement, Scenario
from rules.engine import EngineError, Evaluator
from rules.loader import RuleSet
from rules.trace import Event, TraceError, read_trace
from rules.verdict import Outcome, Verdict, combine

TRACE = "trace.jsonl"


@dataclass
class Replayed:
    verdict: str
    reasons: list[str]
    events: list[str]
    rule_file: str | None
    artifacts: list[str] = field(default_factory=list)
    manual_proof: str = ""


def check_rule_files(claimed: dict[str, Any], rules: RuleSet, out: Verification) -> set[str]:
    """Rule files whose content differs between the run and this harness (each a finding)."""
    differ: set[str] = set()
    for name in sorted(set(claimed) | set(rules.files)):
        ours, theirs = rules.files.get(name), claimed.get(name)
        if ours == theirs:
            continue
        differ.add(name)
        if ours is None:
            why = "used by the run but absent from this harness"
        elif theirs is None:
            why = "in this harness but not used by the run"
        else:
            why = f"differs from the run's (sha256 {str(theirs)[:12]}… in the manifest, {ours[:12]}… here)"
        out.add(
            Check.RULES,
            Status.A_REJOUER,
            f"rule file {name} {why}: the verdicts it gives here may differ from the run's; replay the recette "
            "with this harness's rules",
            file=f"rules/{name}",
        )
    for error in rules.errors:
        out.add(Check.RULES, Status.A_REJOUER, f"this harness's rules have an error: {error}")
    return differ


def read(
    bundle: Path, doubtful: set[str], scenarios: dict[str, Any], out: Verification
) -> list[Event] | None:
    """The trace, checked for what the run's assembly guarantees (seq 1..N without gap, each scenario's slice as
    long as the manifest says). None when there is nothing trustworthy to replay (missing, altered, unreadable):
    a replay of an altered trace would only repeat the alteration."""
    path = bundle / TRACE
    if TRACE in doubtful:
        out.notes.append("trace.jsonl does not match the manifest: the verdicts were not replayed")
        return None
    if not path.is_file() or path.is_symlink():
        out.add(Check.TRACE, Status.A_REJOUER, "no trace.jsonl: the verdicts cannot be replayed", file=TRACE)
        return None
    return _check(_read(path, out), scenarios, out)


def _read(path: Path, out: Verification) -> list[Event] | None:
    try:
        return read_trace(path)
    except (TraceError, UnicodeDecodeError, OSError) as error:
        out.add(Check.TRACE, Status.A_REJOUER, f"unreadable: {error}", file=TRACE)
        return None


def _check(events: list[Event] | None, scenarios: dict[str, Any], out: Verification) -> list[Event] | None:
    if events is None:
        return None
    for expected, event in enumerate(events, start=1):
        if event.seq != expected:
            out.add(
                Check.TRACE,
                Status.A_CORRIGER,
                f"event {event.id} has seq {event.seq} where the run numbers events 1..N without gap "
                f"(expected {expected}): events were removed or inserted",
                file=TRACE,
            )
            break
    counts = Counter(e.scenario for e in events if e.scenario)
    for sid, execution in sorted(scenarios.items()):
        claimed = execution.get("events") if isinstance(execution, dict) else None
        if isinstance(claimed, int) and claimed != counts.get(sid, 0):
            out.add(
                Check.TRACE,
                Status.A_CORRIGER,
                f"scenario {sid}: the manifest counts {claimed} events, the trace has {counts.get(sid, 0)}",
                file=TRACE,
            )
    return events


def pairs_rem(editor_rem: Rem | None, results: list[dict[str, Any]]) -> Rem:
    """The REM restricted to the bundle's requirements (its own REM when known, else the ids the manifest gives):
    the pairs the replay judges are the run's pairs, no more."""
    wanted = list(dict.fromkeys(r["requirement"] for r in results))
    requirements: list[Requirement] = []
    for rid in wanted:
        known = editor_rem.get(rid) if editor_rem is not None else None
        if known is not None:
            requirements.append(known)
            continue
        scenarios = tuple(
            Scenario(sid, "", ())
            for sid in dict.fromkeys(r["scenario"] for r in results if r["requirement"] == rid)
        )
        section = rid.rsplit(".", 1)[0]
        requirements.append(
            Requirement(rid, section, section, "", "", Nature.EXIGENCE, "", scenarios=scenarios)
        )
    source = editor_rem or Rem("(manifest)", "", "", ())
    return Rem(source.source, source.sha256, source.version, tuple(requirements))


def replay(
    events: list[Event],
    rules: RuleSet,
    rem: Rem,
    profile: dict[str, Any],
    bundle: Path,
    scenarios: dict[str, Any],
    out: Verification,
) -> dict[tuple[str, str], Replayed] | None:
    try:
        verdicts = Evaluator(rules, rem, profile, artifacts_dir=bundle).evaluate(events)
    except EngineError as error:
        out.add(Check.REPLAY, Status.A_REJOUER, f"the rule engine failed on this trace: {error}", file=TRACE)
        return None
    replayed: dict[tuple[str, str], Replayed] = {}
    for verdict in verdicts:
        execution = scenarios.get(verdict.scenario)
        outcome, reasons = apply_execution(verdict, execution if isinstance(execution, dict) else None)
        replayed[(verdict.requirement, verdict.scenario)] = _replayed(verdict, outcome, reasons)
    return replayed


def _replayed(verdict: Verdict, outcome: Outcome, reasons: list[str]) -> Replayed:
    return Replayed(
        outcome.value,
        reasons,
        list(verdict.events),
        verdict.rule_file,
        list(verdict.artifacts),
        verdict.manual_proof,
    )


def compare(
    results: list[dict[str, Any]],
    replayed: dict[tuple[str, str], Replayed],
    scenarios: dict[str, Any],
    changed_rules: set[str],
    out: Verification,
) -> None:
    """Each claimed result against its replay; the execution a result carries against the scenario's."""
    for result in results:
        rid, sid, claimed = result["requirement"], result["scenario"], result["verdict"]
        execution, recorded = result.get("execution"), scenarios.get(sid)
        if (execution is None) != (recorded is None) or (
            execution is not None
            and isinstance(recorded, dict)
            and (execution.get("status"), execution.get("message"))
            != (recorded.get("status"), recorded.get("message"))
        ):
            out.add(
                Check.REPLAY,
                Status.A_CORRIGER,
                f"{sid}: the result's execution {_status(execution)} differs from the scenario's {_status(recorded)}",
                requirement=rid,
            )
        again = replayed.get((rid, sid))
        if again is None:
            out.add(
                Check.REPLAY, Status.A_REJOUER, f"{sid}: no verdict on replay (unknown pair)", requirement=rid
            )
            continue
        rule_changed = (again.rule_file or result.get("rule_file")) in changed_rules
        if again.verdict != claimed:
            if rule_changed:
                out.add(
                    Check.REPLAY,
                    Status.A_REJOUER,
                    f"{sid}: replayed « {again.verdict} », the bundle says « {claimed} » — rule file "
                    f"{again.rule_file} changed since the run",
                    requirement=rid,
                )
            else:
                out.add(
                    Check.REPLAY,
                    Status.A_CORRIGER,
                    f"{sid}: the manifest says « {claimed} » but the rules replayed on trace.jsonl give "
                    f"« {again.verdict} »",
                    requirement=rid,
                    file="manifest.json",
                )
        elif not rule_changed and (
            claimed_reasons(result) != again.reasons or list(result.get("events") or []) != again.events
        ):
            out.add(
                Check.REPLAY,
                Status.A_CORRIGER,
                f"{sid}: same verdict, but the manifest's reasons or events differ from the replay's",
                requirement=rid,
                file="manifest.json",
            )
        if not rule_changed and (result.get("rule_file") or None) != again.rule_file:
            out.add(
                Check.REPLAY,
                Status.A_CORRIGER,
                f"{sid}: judged by {result.get('rule_file')} in the manifest, by {again.rule_file} on replay",
                requirement=rid,
            )


def claimed_reasons(result: dict[str, Any]) -> list[str]:
    """The result's reasons as the rules and the execution gave them: a waiver of the editor's CI gate
    (docs/ci.md) puts its own line first, which the replay does not produce."""
    reasons = list(result.get("reasons") or [])
    if isinstance(result.get("waiver"), dict) and reasons and reasons[0].startswith("dérogation"):
        return reasons[1:]
    return reasons


def compare_requirements(
    claimed: dict[str, Any],
    summary: dict[str, Any],
    results: list[dict[str, Any]],
    replayed: dict[tuple[str, str], Replayed] | None,
    out: Verification,
) -> dict[str, str]:
    """The manifest's per-requirement verdicts and summary against the combination of its own results and of the
    replay. Returns the replayed verdict per requirement (empty without a replay)."""
    own: dict[str, list[Outcome]] = {}
    again: dict[str, list[Outcome]] = {}
    for result in results:
        rid = result["requirement"]
        own.setdefault(rid, []).append(Outcome(result["verdict"]))
        if replayed is not None and (rid, result["scenario"]) in replayed:
            again.setdefault(rid, []).append(Outcome(replayed[(rid, result["scenario"])].verdict))
    for rid in sorted(set(own) | set(claimed)):
        if rid not in own:
            out.add(
                Check.MANIFEST,
                Status.A_CORRIGER,
                "a verdict in 'requirements' with no result",
                requirement=rid,
            )
            continue
        combined = combine(own[rid]).value
        if claimed.get(rid) != combined:
            out.add(
                Check.MANIFEST,
                Status.A_CORRIGER,
                f"'requirements' says « {claimed.get(rid)} », its results combine to « {combined} »",
                requirement=rid,
                file="manifest.json",
            )
    requirement_counts = Counter(claimed.values())
    stated = summary.get("requirements") if isinstance(summary, dict) else None
    if isinstance(stated, dict) and any(
        stated.get(v, 0) != requirement_counts.get(v, 0) for v in set(stated) | set(requirement_counts)
    ):
        out.add(
            Check.MANIFEST, Status.A_CORRIGER, "the summary counts do not match the per-requirement verdicts"
        )
    return {rid: combine(outcomes).value for rid, outcomes in again.items()}


def _status(execution: Any) -> str:
    if not isinstance(execution, dict):
        return "(none)"
    return str(execution.get("status"))
