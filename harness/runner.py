"""The recette run: execute the selected scenarios against a target, assemble the trace, judge it with the rules,
and hand the results to the proof bundle writer.

Why this order: scenarios only *act* and collect what the DCC and the simulators recorded; the verdicts come from
the rules evaluated on the assembled trace — the same evaluation ``verify`` replays later from ``trace.jsonl``.
A scenario step that goes wrong (the DCC refused what it must accept, accepted what it must refuse) is added to
the rules' verdict as a reason; it can only make a verdict worse, never better.
"""

from __future__ import annotations

import functools
import shutil
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.targets import NotFound, Refused, Target, TargetError
from rem.model import Nature, Rem
from rules.engine import Evaluator
from rules.loader import RuleSet
from rules.trace import Event
from rules.verdict import Outcome, Verdict, combine
from scenarios.context import ScenarioContext, ScenarioFailed
from scenarios.registry import ScenarioSpec


class RunError(RuntimeError):
    """The run cannot start (scenario unknown to the REM, rule files in error…): exit status 2."""


@dataclass
class ScenarioRun:
    """How the execution of one scenario went (not its verdict: that is the rules' and this together)."""

    spec: ScenarioSpec
    status: str = "passed"  # passed, failed (the DCC did not behave), error (the harness or target broke)
    message: str = ""
    duration_s: float = 0.0
    delivered: dict[str, list[str]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


@dataclass
class Result:
    """One REM requirement × scenario row of the book and the manifest."""

    requirement: str
    scenario: str
    verdict: Outcome
    reasons: list[str]
    proofs: list[str]
    expected_proofs: list[dict[str, Any]]
    mandatory: bool
    execution: dict[str, Any] | None = None
    rule_file: str | None = None
    events: list[str] = field(default_factory=list)


@dataclass
class RunOutcome:
    started: datetime
    finished: datetime
    results: list[Result]
    runs: dict[str, ScenarioRun]
    trace: list[Event]

    def requirement_verdicts(self) -> dict[str, Outcome]:
        grouped: dict[str, list[Outcome]] = {}
        for result in self.results:
            grouped.setdefault(result.requirement, []).append(result.verdict)
        return {rid: combine(outcomes) for rid, outcomes in sorted(grouped.items())}


Progress = Callable[[str, ScenarioRun], None]


def check_scenarios(specs: dict[str, ScenarioSpec], rem: Rem) -> None:
    known = {s.id for s in rem.scenarios}
    unknown = sorted(set(specs) - known)
    if unknown:
        raise RunError(f"scenarios not in {rem.source}: {', '.join(unknown)} (rename them or update the REM)")


def proof_ids(spec: ScenarioSpec, rem: Rem) -> tuple[str, ...]:
    """The REM's expected proofs of the scenario (the ids ``ctx.proof`` accepts)."""
    return tuple(
        p.id for s in rem.requirement(spec.requirement).scenarios if s.id == spec.id for p in s.proofs
    )


def execute(
    spec: ScenarioSpec,
    target: Target,
    proofs: tuple[str, ...],
    profile: dict[str, Any],
    bundle_dir: Path,
    stack: Any = None,
    since: int = 0,
    faults: tuple[str, ...] | None = None,
) -> ScenarioRun:
    """One scenario against ``target``, with its slice of the trace. ``since``: the evidence store's last seq before
    this run (simulators shared by several runs, as the fault proof does, keep what earlier runs recorded under the
    same scenario ids). ``faults``: the reference DCC's faults for this scenario instead of the target's."""
    run = ScenarioRun(spec)
    started = time.perf_counter()
    ctx: ScenarioContext | None = None
    session = None
    try:
        session = target.session(spec.id) if faults is None else target.session(spec.id, faults=faults)
        ctx = ScenarioContext(
            spec,
            session,
            profile,
            bundle_dir,
            proofs,
            simulators=stack if spec.needs else None,
            evidence_since=since,
        )
        if spec.needs:
            missing = [n for n in spec.needs if stack is None or n not in stack.running]
            if missing:
                raise TargetError(f"simulator(s) not running: {', '.join(missing)}")
            stack.evidence.current_scenario = spec.id
        spec.function(ctx)
    except (ScenarioFailed, Refused, NotFound) as failure:
        run.status, run.message = "failed", f"{type(failure).__name__}: {failure}"
    except TargetError as error:
        run.status, run.message = "error", f"target: {error}"
    except Exception as error:  # a defect of the scenario itself: reported, never a crash of the whole run
        run.status = "error"
        run.message = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}"
    finally:
        if spec.needs and stack is not None:
            stack.evidence.current_scenario = None
        if session is not None:
            try:
                run.events = _events(spec.id, session.events(), ctx, stack, since)
            except TargetError as error:
                run.status, run.message = "error", f"target: reading the events failed: {error}"
            session.close()
        run.duration_s = time.perf_counter() - started
        if ctx is not None:
            run.delivered = ctx.delivered
    return run


def _events(
    scenario: str,
    exported: list[dict[str, Any]],
    ctx: ScenarioContext | None,
    stack: Any = None,
    since: int = 0,
) -> list[Event]:
    """The scenario's slice: the DCC's events, what the simulators recorded for it, the harness's notes — in time
    order (each producer's own order kept), ids made unique across the trace."""
    out: list[Event] = []
    for index, raw in enumerate(exported):
        event = Event.from_json(raw, where=f"{scenario}: DCC event {index}")
        out.append(
            Event(
                id=f"{scenario}/{event.source}/{event.id}",
                seq=0,
                time=event.time,
                source=event.source,
                type=event.type,
                data=event.data,
                scenario=scenario,
                artifacts=event.artifacts,
            )
        )
    if stack is not None:
        out.extend(
            Event(
                id=f"{scenario}/{e.source}/{e.id}",
                seq=0,
                time=e.time,
                source=e.source,
                type=e.type,
                data=e.data,
                scenario=scenario,
                artifacts=e.artifacts,
            )
            for e in stack.evidence.events
            if e.scenario == scenario and e.seq > since
        )
        out.sort(key=lambda e: e.time)  # stable: events of one producer keep their order within a timestamp
    noted = []
    for index, (type_, data, artifacts, *when) in enumerate(ctx.notes if ctx else []):
        noted.append(
            Event(
                id=f"{scenario}/harness/{index}",
                seq=0,
                time=when[0] if when else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                source="harness",
                type=type_,
                data=data,
                scenario=scenario,
                artifacts=artifacts,
            )
        )
    if noted:  # each note where it happened among the others (stable: every producer keeps its own order)
        out = sorted(out + noted, key=lambda e: e.time)
    return out


def run(
    specs: dict[str, ScenarioSpec],
    target: Target,
    rem: Rem,
    rules: RuleSet,
    profile: dict[str, Any],
    bundle_dir: Path,
    jobs: int = 1,
    progress: Progress | None = None,
    requirements: set[str] | None = None,
    stack: Any = None,
    simulator_config: dict[str, Any] | None = None,
) -> RunOutcome:
    """Runs ``specs`` and judges the requirements (all of the REM's, or ``requirements``).

    A target that can be duplicated (``Target.recipe``: the reference DCC) runs on ``jobs`` worker processes, each
    with its own DCC and simulators, one scenario at a time each (``harness.workers``). Otherwise — one DCC behind a
    URL, or simulators given by the caller — the scenarios that talk to the simulators run one at a time (what a
    simulator receives is attributed to the scenario running), the others in parallel on ``jobs`` threads."""
    check_scenarios(specs, rem)
    if rules.errors:
        raise RunError("the rule files have errors: " + "; ".join(str(e) for e in rules.errors[:5]))
    started = datetime.now(UTC)
    recipe = target.recipe()
    if stack is None and jobs > 1 and recipe is not None and not simulator_config:
        from harness.workers import run_in_processes

        runs = run_in_processes(specs, recipe, rem, profile, bundle_dir, jobs, progress)
        return _judge(runs, rem, rules, profile, bundle_dir, started, requirements)
    owned = stack is None and any(spec.needs for spec in specs.values())
    if owned:
        stack = start_simulators(target, bundle_dir, simulator_config)
    since = max((e.seq for e in stack.evidence.events), default=0) if stack is not None else 0
    try:
        runs = _run_all(specs, target, rem, profile, bundle_dir, jobs, progress, stack, since)
    finally:
        if owned:
            stack.stop()
            target.configure({})
    if stack is not None and not owned:
        _copy_simulator_artifacts([e for r in runs.values() for e in r.events], stack, bundle_dir)
    return _judge(runs, rem, rules, profile, bundle_dir, started, requirements)


def _judge(
    runs: dict[str, ScenarioRun],
    rem: Rem,
    rules: RuleSet,
    profile: dict[str, Any],
    bundle_dir: Path,
    started: datetime,
    requirements: set[str] | None,
) -> RunOutcome:
    """The rules on the assembled trace, each verdict made worse by how its scenario's execution went."""
    trace = _assemble(runs)
    evaluator = Evaluator(rules, rem, profile, artifacts_dir=bundle_dir)
    verdicts = evaluator.evaluate(trace)
    selected = requirements if requirements is not None else {r.id for r in rem.requirements}
    results = [_result(v, rem, runs.get(v.scenario)) for v in verdicts if v.requirement in selected]
    return RunOutcome(started, datetime.now(UTC), results, runs, trace)


def start_simulators(
    target: Target, bundle_dir: Path, config: dict[str, Any] | None = None, tag: str = ""
) -> Any:
    """Starts the simulators on loopback with the run's evidence store (their artifacts land in the bundle) and tells
    the target where they are. An editor's DCC must already be configured with the same endpoints: give fixed ports
    in ``config`` (the ``simulators up`` configuration file). ``tag``: see ``EvidenceStore``."""
    from harness.simulators.base import SimulatorError
    from harness.simulators.evidence import EvidenceStore
    from harness.simulators.stack import Stack, environment

    config = dict(config or {})
    stack = Stack(config, config.get("host") or "127.0.0.1", evidence=EvidenceStore(bundle_dir, tag=tag))
    try:
        stack.start()
    except SimulatorError as error:
        raise RunError(str(error)) from None
    target.configure(environment(stack.endpoints()))
    return stack


def _run_all(
    specs: dict[str, ScenarioSpec],
    target: Target,
    rem: Rem,
    profile: dict[str, Any],
    bundle_dir: Path,
    jobs: int,
    progress: Progress | None,
    stack: Any,
    since: int = 0,
) -> dict[str, ScenarioRun]:
    runs: dict[str, ScenarioRun] = {}

    def done(result: ScenarioRun) -> None:
        runs[result.spec.id] = result
        if progress:
            progress(result.spec.id, result)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(execute, spec, target, proof_ids(spec, rem), profile, bundle_dir)
            for spec in specs.values()
            if not spec.needs
        ]
        for spec in specs.values():  # the serial lane, while the pool works on the others
            if spec.needs:
                done(execute(spec, target, proof_ids(spec, rem), profile, bundle_dir, stack, since))
        for future in as_completed(futures):
            done(future.result())
    return runs


def _assemble(runs: dict[str, ScenarioRun]) -> list[Event]:
    """One trace, scenario after scenario (in id order), each slice in the order its producers recorded it."""
    trace: list[Event] = []
    for scenario in sorted(runs):
        for event in runs[scenario].events:
            trace.append(
                Event(
                    id=event.id,
                    seq=len(trace) + 1,
                    time=event.time,
                    source=event.source,
                    type=event.type,
                    data=event.data,
                    scenario=event.scenario,
                    artifacts=event.artifacts,
                )
            )
    return trace


def apply_execution(verdict: Verdict, execution: Mapping[str, Any] | None) -> tuple[Outcome, list[str]]:
    """The rules' verdict made worse (never better) by how the scenario's execution went.

    ``execution`` is ``{"status", "message"}`` (a ScenarioRun, or the manifest's ``scenarios[id]`` when ``verify``
    replays a bundle) or None when no executable scenario exists. One function for both, so the run and its
    verification can never combine differently."""
    outcome, reasons = verdict.verdict, list(verdict.reasons)
    status = execution.get("status") if execution is not None else None
    message = str(execution.get("message") or "") if execution is not None else ""
    if execution is None:
        if outcome is Outcome.NON_EVALUE and verdict.rule_file and not verdict.manual_proof:
            reasons.insert(0, "aucun scénario exécutable pour ce scénario du REM")
    elif status == "failed":
        reasons.insert(0, f"étape du scénario en échec : {message}")
        if outcome in (Outcome.CONFORME, Outcome.NON_EVALUE):
            outcome = Outcome.NON_CONFORME
    elif status == "error":
        reasons.insert(0, f"erreur d'exécution (harness ou cible) : {(message.splitlines() or [''])[0]}")
        if outcome is Outcome.CONFORME:
            outcome = Outcome.NON_EVALUE
    return outcome, reasons


def _result(verdict: Verdict, rem: Rem, execution: ScenarioRun | None) -> Result:
    requirement = rem.requirement(verdict.requirement)
    scenario = next((s for s in requirement.scenarios if s.id == verdict.scenario), None)
    outcome, reasons = apply_execution(
        verdict,
        {"status": execution.status, "message": execution.message} if execution is not None else None,
    )
    delivered = execution.delivered if execution else {}
    expected = [
        {"id": p.id, "text": p.text, "delivered": delivered.get(p.id, [])}
        for p in (scenario.proofs if scenario else ())
    ]
    proofs = sorted({path for paths in delivered.values() for path in paths} | set(verdict.artifacts))
    return Result(
        requirement=verdict.requirement,
        scenario=verdict.scenario,
        verdict=outcome,
        reasons=reasons,
        proofs=proofs,
        expected_proofs=expected,
        mandatory=requirement.nature is Nature.EXIGENCE,
        execution=(
            {
                "status": execution.status,
                "message": execution.message,
                "duration_s": round(execution.duration_s, 3),
            }
            if execution
            else None
        ),
        rule_file=verdict.rule_file,
        events=list(verdict.events),
    )


@functools.lru_cache(maxsize=1)
def _defaults() -> tuple[Rem, RuleSet, dict[str, Any]]:
    from rem import default_rem_path
    from rem.loader import load_rem
    from rules.loader import load_rules
    from rules.profile import load_profile

    return load_rem(default_rem_path()).rem, load_rules(), load_profile()


def _copy_simulator_artifacts(events: Iterable[Event], stack: Any, bundle_dir: Path) -> None:
    """A stack started for many runs keeps its artifacts in its own store: the files this run's simulator events
    name are copied into the bundle, where the rules' proof checks (and a reader of the bundle) find them."""
    root = getattr(stack.evidence, "root", None)
    if root is not None:
        copy_artifacts(events, Path(root), bundle_dir)


def copy_artifacts(events: Iterable[Event], root: Path, bundle_dir: Path) -> None:
    """Copies the files the events name from ``root`` (simulators' evidence kept apart) into the bundle."""
    if Path(root).resolve() == Path(bundle_dir).resolve():
        return
    for event in events:
        for relative in event.artifacts:
            target = Path(bundle_dir) / relative
            source = Path(root) / relative
            if not target.exists() and source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


def judge_one(spec: ScenarioSpec, target: Target, bundle_dir: Path, stack: Any = None) -> Result:
    """One scenario, run and judged on its own with the embedded REM, rules and profile (the pytest plugin's unit):
    the same code path as ``run``. ``stack``: simulators already running (started once for many scenarios)."""
    rem, rules, profile = _defaults()
    outcome = run(
        {spec.id: spec}, target, rem, rules, profile, bundle_dir, requirements={spec.requirement}, stack=stack
    )
    return next(r for r in outcome.results if r.scenario == spec.id)
