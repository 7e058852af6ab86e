"""The recette of a target that can be duplicated (the reference DCC) on worker processes.

Why processes: a scenario is mostly Python work — the DCC's services, its CDA and PDF, the simulators parsing what
they receive — and threads of one interpreter share one core. Why each worker has its own DCC and simulators: what
a simulator receives is attributed to the scenario running, so one set of simulators serves one scenario at a
time. A worker runs one scenario at a time, so its own simulators are unambiguous, and the scenarios that talk to
simulators no longer queue in a single lane.

Costly resources (``scenarios.registry.resource``: the ANS validation chain takes ~10 s to compile) are built by
worker 0 alone, first; every scenario that uses one goes to worker 0, while the others start on the rest.

The fault proof uses the same pool (``run_tasks``): each task names the faults its scenario runs with and the bundle
directory its proofs go to.

Workers are forked from a fork server that imported the harness once (``forkserver``): they start in a fraction
of a second, and none inherits the threads of the calling process (the progress display's, a test's servers),
which a plain ``fork`` would copy in whatever lock state they were.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import pkgutil
import queue
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rem.model import Rem
from scenarios.registry import ScenarioSpec, scenario_modules

WORKER_STOP_S = 30.0  # a worker that does not stop in this time after the run is terminated
POLL_S = 0.5  # how often the run checks that its workers are alive while it waits


def _preload() -> list[str]:
    """What the fork server imports once, so that every worker starts with it loaded."""
    from dcc import driver_ops

    return [
        "harness.runner",
        "harness.targets.reference",
        "harness.simulators.stack",
        "dcc.driver",
        *(f"dcc.driver_ops.{m.name}" for m in pkgutil.iter_modules(driver_ops.__path__)),
        *scenario_modules(),
    ]


def _context() -> Any:
    """The fork server context, told what to import when it starts (a server already running keeps its imports)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_preload())
    return context


def start_early() -> None:
    """Starts the fork server now, so that its imports overlap what the run does before its first scenario (loading
    the REM, the rules, migrating the template database); else the first worker waits for them (~4 s)."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


@dataclass(frozen=True)
class Task:
    """One scenario to run in a worker. ``faults``: the reference DCC's faults for this scenario (None: the
    target's own); ``key``: the caller's, handed back with the result (the fault proof's fault name)."""

    spec: ScenarioSpec
    proofs: tuple[str, ...]
    bundle_dir: str
    faults: tuple[str, ...] | None = None
    key: Any = None


def _worker(
    index: int,
    recipe: dict[str, Any],
    profile: dict[str, Any],
    simulators_dir: str,
    environment: dict[str, str],
    resources: list[str],
    inbox: Any,
    results: Any,
) -> None:
    """One worker: builds its DCC, warms its resources, then runs the tasks it is given until told to stop."""
    from harness.runner import execute, start_simulators
    from harness.targets import make_target
    from scenarios.registry import warm

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupted run stops its workers itself
    os.environ.clear()
    os.environ.update(environment)  # the caller's environment now, not the fork server's when it started
    target = stack = None
    try:
        options = dict(recipe)
        target = make_target(options.pop("kind"), **options)
        for name in resources:
            try:
                warm(name)
            except Exception:  # the scenarios using it report the failure themselves
                pass
        while (
            task := inbox.get()
        ) is not None:  # the spec's function is pickled by reference (module and name)
            spec = task.spec
            if spec.needs and stack is None:  # simulators only in the workers that need them
                stack = start_simulators(target, Path(simulators_dir), tag=f"w{index}-")
            # what this worker's simulators recorded before (the same scenario may run again, with another fault)
            since = max((e.seq for e in stack.evidence.events), default=0) if stack is not None else 0
            run = execute(
                spec, target, task.proofs, profile, Path(task.bundle_dir), stack, since, task.faults
            )
            probes = sorted(target.forget(spec.id)) if hasattr(target, "forget") else []
            outcome = (run.status, run.message, run.duration_s, run.delivered, run.events, probes)
            try:  # pickled here: a Queue pickles in a thread of its own and would lose the error
                payload = pickle.dumps(outcome)
            except Exception as error:  # an event whose data is not plain data
                payload = pickle.dumps(
                    ("error", f"result not transferable: {error}", run.duration_s, {}, [], probes)
                )
            results.put(("done", index, payload))
    except BaseException as error:  # reported to the run, which names the scenario it was on
        results.put(("broken", index, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}"))
    finally:
        if stack is not None:
            stack.stop()
        if target is not None:
            target.configure({})
            target.close()


class _Dispatch:
    """Which task goes to which worker next: worker 0 first takes the tasks whose scenario uses a resource (anyone
    takes them if worker 0 is gone); otherwise the next in the queue."""

    def __init__(self, tasks: list[Task]) -> None:
        self.pinned = [t for t in tasks if t.spec.resources]
        # the scenarios that talk to simulators wait on them (outbox runs, acknowledgements): started first, their
        # waits overlap the others' work instead of ending the run
        self.free = sorted((t for t in tasks if not t.spec.resources), key=lambda t: not t.spec.needs)

    def next_for(self, worker: int, pinned_owner_alive: bool) -> Task | None:
        if self.pinned and (worker == 0 or not pinned_owner_alive):
            return self.pinned.pop(0)
        if self.free:
            return self.free.pop(0)
        return None

    def remaining(self) -> list[Task]:
        left, self.pinned, self.free = self.pinned + self.free, [], []
        return left


Done = Callable[[Task, Any, list[str]], None]  # (task, ScenarioRun, the faults its code path asked about)


def run_tasks(
    tasks: list[Task],
    recipe: dict[str, Any],
    profile: dict[str, Any],
    simulators_dir: Path,
    jobs: int,
    done: Done,
) -> None:
    """Runs ``tasks`` on ``jobs`` worker processes, calling ``done`` as each ends (in this process, one at a time).
    A worker that dies costs the task it was running (an error naming the exit code), not the others.
    ``simulators_dir``: where the workers' simulators keep what they receive."""
    from harness.runner import ScenarioRun

    context = _context()
    resources = sorted({name for task in tasks for name in task.spec.resources})
    count = max(1, min(jobs, len(tasks)))
    results = context.Queue()
    inboxes = [context.Queue() for _ in range(count)]
    environment = dict(os.environ)
    workers = [
        context.Process(
            target=_worker,
            args=(
                i,
                recipe,
                profile,
                str(Path(simulators_dir).resolve()),
                environment,
                resources if i == 0 else [],
                inboxes[i],
                results,
            ),
            name=f"recette-worker-{i}",
            daemon=True,
        )
        for i in range(count)
    ]
    for worker in workers:
        worker.start()
    dispatch = _Dispatch(tasks)
    running: dict[int, Task] = {}
    alive = set(range(count))

    def give(worker: int) -> None:
        task = dispatch.next_for(worker, 0 in alive)
        if task is None:
            inboxes[worker].put(None)
        else:
            running[worker] = task
            inboxes[worker].put(task)

    def lost(worker: int, why: str) -> None:
        alive.discard(worker)
        task = running.pop(worker, None)
        if task is not None:
            done(task, ScenarioRun(task.spec, "error", f"worker process {worker}: {why}"), [])

    try:
        for worker in range(count):
            give(worker)
        while running:
            try:
                kind, worker, payload = results.get(timeout=POLL_S)
            except queue.Empty:
                for worker in sorted(alive):
                    if not workers[worker].is_alive():
                        lost(worker, f"ended with exit code {workers[worker].exitcode}")
                if not alive:
                    break
                continue
            if kind == "broken":
                lost(worker, payload)
                continue
            status, message, duration, delivered, events, probes = pickle.loads(payload)
            task = running.pop(worker)
            done(task, ScenarioRun(task.spec, status, message, duration, delivered, events), probes)
            give(worker)
        for task in dispatch.remaining():
            done(task, ScenarioRun(task.spec, "error", "no worker process left to run it"), [])
    finally:
        for worker in alive:
            inboxes[worker].put(None)
        for worker in workers:
            worker.join(timeout=WORKER_STOP_S)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)


def run_in_processes(
    specs: dict[str, ScenarioSpec],
    recipe: dict[str, Any],
    rem: Rem,
    profile: dict[str, Any],
    bundle_dir: Path,
    jobs: int,
    progress: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Runs ``specs`` on ``jobs`` worker processes; returns each scenario's ``ScenarioRun`` as the threaded run does
    (the workers' simulators keep their evidence in the bundle itself)."""
    from harness.runner import proof_ids

    bundle = str(Path(bundle_dir).resolve())
    runs: dict[str, Any] = {}

    def done(task: Task, run: Any, _probes: list[str]) -> None:
        runs[task.spec.id] = run
        if progress:
            progress(task.spec.id, run)

    tasks = [Task(spec, proof_ids(spec, rem), bundle) for spec in specs.values()]
    run_tasks(tasks, recipe, profile, Path(bundle), jobs, done)
    return runs
