"""What a scenario sees while it runs: the DCC (through the target interface only), the run's profile, a place to
put proof files named by their REM proof ids, and the harness's own notes in the trace."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.targets import Refused, TargetSession
from scenarios.registry import ScenarioSpec

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ScenarioFailed(AssertionError):
    """A step of the scenario did not go as the REM scenario describes (the DCC accepted what it must refuse,
    refused what it must accept, answered something else)."""


@dataclass
class ScenarioContext:
    spec: ScenarioSpec
    dcc: TargetSession
    profile: dict[str, Any]
    bundle_dir: Path
    proof_ids: tuple[str, ...] = ()
    simulators: Any = None  # harness.simulators.stack.Stack when the scenario ``needs`` simulators
    evidence_since: int = (
        0  # what the simulators recorded before this run (a stack shared by runs) is not ours
    )
    notes: list[tuple[str, dict[str, Any], tuple[str, ...]]] = field(default_factory=list)
    delivered: dict[str, list[str]] = field(default_factory=dict)  # proof id -> bundle-relative paths

    @property
    def id(self) -> str:
        return self.spec.id

    def proof(self, number: int | str, name: str, content: bytes | str) -> str:
        """Stores a proof file as ``artifacts/<proof id>/<name>`` and returns its bundle-relative path. ``number``
        is the proof's last id part (1 → ``<scenario>.01``) or the full proof id."""
        proof_id = number if isinstance(number, str) and "." in number else f"{self.id}.{int(number):02d}"
        if self.proof_ids and proof_id not in self.proof_ids:
            raise ValueError(
                f"{self.id}: proof {proof_id} is not one of the REM's ({', '.join(self.proof_ids)})"
            )
        relative = Path("artifacts") / proof_id.replace("/", "_") / _SAFE_NAME.sub("_", name)
        target = self.bundle_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        self.delivered.setdefault(proof_id, []).append(relative.as_posix())
        return relative.as_posix()

    def note(self, type: str, artifacts: tuple[str, ...] = (), **data: Any) -> None:
        """A harness event (``source: harness``) in the scenario's slice of the trace, at the time it is noted
        (so that what the DCC does afterwards follows it: a rule may take the note as its trigger)."""
        self.notes.append((type, data, tuple(artifacts), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")))

    def simulator(self, name: str) -> Any:
        """A running simulator (``insi``, ``dmp``, ``mss``, ``psc``, ``annuaire``, ``peer_dcc``, ``dpi``)."""
        if self.simulators is None or name not in self.simulators.running:
            raise ScenarioFailed(f"{self.id}: simulator {name!r} is not running (declare it in needs=)")
        return self.simulators.running[name]

    def received(self, source: str, type: str | None = None) -> list[Any]:
        """What the simulators recorded for this scenario so far (events of ``source``, optionally of ``type``)."""
        if self.simulators is None:
            return []
        return [
            e
            for e in self.simulators.evidence.events
            if e.scenario == self.id
            and e.seq > self.evidence_since
            and e.source == source
            and (type is None or e.type == type)
        ]

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise ScenarioFailed(message)

    def refused(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        """Runs an operation the DCC must refuse; returns the refusal's reason, fails the scenario if accepted."""
        try:
            answer = operation(*args, **kwargs)
        except Refused as refusal:
            return refusal.reason
        raise ScenarioFailed(
            f"the DCC accepted what it must refuse: {getattr(operation, '__name__', operation)} → {answer}"
        )
