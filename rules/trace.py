"""The trace: the JSON Lines record of everything that happened in a run, which rules evaluate into verdicts.

Every producer (the reference DCC's event export, each simulator, the harness) writes the same envelope, so a GRADeS
reviewer can re-evaluate a run from ``trace.jsonl`` alone. The catalogue of event types is ``docs/trace-events.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

SOURCES = frozenset({"dcc", "insi", "dmp", "mss", "psc", "annuaire", "peer-dcc", "dpi", "harness"})


class TraceError(ValueError):
    """A trace line that is not a valid event; the message names the file and line."""


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``id`` is unique in the trace; ``seq`` orders the trace (strictly increasing)."""

    id: str
    seq: int
    time: str  # ISO 8601 UTC, e.g. 2026-11-24T20:00:00.000000Z
    source: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    scenario: str | None = None  # REM scenario id the event belongs to, when the harness knows it
    artifacts: tuple[str, ...] = ()  # bundle-relative paths of the evidence (CDA, .eml, SOAP envelope, ...)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "seq": self.seq,
            "time": self.time,
            "source": self.source,
            "type": self.type,
            "data": dict(self.data),
        }
        if self.scenario is not None:
            out["scenario"] = self.scenario
        if self.artifacts:
            out["artifacts"] = list(self.artifacts)
        return out

    def to_line(self) -> str:
        """Canonical serialisation: sorted keys, no spaces, UTF-8 — the same event always gives the same bytes."""
        return json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "<event>") -> Event:
        if not isinstance(obj, Mapping):
            raise TraceError(f"{where}: an event must be a JSON object")
        for key, kind in (("id", str), ("seq", int), ("time", str), ("source", str), ("type", str)):
            value = obj.get(key)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise TraceError(f"{where}: field {key!r} must be a {kind.__name__}, got {value!r}")
        if obj["source"] not in SOURCES:
            raise TraceError(
                f"{where}: unknown source {obj['source']!r} (one of {', '.join(sorted(SOURCES))})"
            )
        data = obj.get("data", {})
        if not isinstance(data, Mapping):
            raise TraceError(f"{where}: field 'data' must be an object")
        artifacts = obj.get("artifacts", [])
        if not isinstance(artifacts, list) or not all(isinstance(a, str) for a in artifacts):
            raise TraceError(f"{where}: field 'artifacts' must be a list of strings")
        scenario = obj.get("scenario")
        if scenario is not None and not isinstance(scenario, str):
            raise TraceError(f"{where}: field 'scenario' must be a string")
        return cls(
            id=obj["id"],
            seq=obj["seq"],
            time=obj["time"],
            source=obj["source"],
            type=obj["type"],
            data=data,
            scenario=scenario,
            artifacts=tuple(artifacts),
        )


def read_trace(path: str | Path) -> list[Event]:
    """Reads a whole ``trace.jsonl``; rejects duplicate ids and non-increasing ``seq`` with the line number."""
    with open(path, encoding="utf-8") as handle:
        return list(iter_trace(handle, str(path)))


def iter_trace(handle: TextIO, name: str = "<trace>") -> Iterator[Event]:
    seen: set[str] = set()
    last_seq: int | None = None
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise TraceError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
        event = Event.from_json(obj, where)
        if event.id in seen:
            raise TraceError(f"{where}: duplicate event id {event.id!r}")
        if last_seq is not None and event.seq <= last_seq:
            raise TraceError(f"{where}: seq {event.seq} does not follow {last_seq}")
        seen.add(event.id)
        last_seq = event.seq
        yield event


def write_trace(path: str | Path, events: Iterable[Event]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for event in events:
            handle.write(event.to_line())
            handle.write("\n")
