"""The evidence store every simulator writes to: trace events (``rules.trace.Event``) and the raw bytes of each
exchange (SOAP envelopes, ``.eml``, XDM zips, tokens), so a run's proof bundle can show what was received.

Thread-safe (SMTP workers and uvicorn threads emit at once); ``seq`` is strictly increasing and ``id`` unique, as
``docs/trace-events.md`` requires. Artifacts are written atomically (temporary file, then rename) so a crash never
leaves a half-written file behind; their paths are bundle-relative (``artifacts/<source>/<n>-<name>``).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rules.trace import Event, write_trace

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EvidenceError(ValueError):
    """An artifact path outside the bundle, or an unknown one."""


class EvidenceStore:
    """``root``: the bundle directory (artifacts are written under it); ``None`` keeps everything in memory.
    ``tag``: put before every artifact's number, so that stores of several processes writing into one bundle (the
    run's worker processes, each with its own simulators) never name two artifacts alike."""

    def __init__(
        self, root: str | Path | None = None, clock: Callable[[], str] = _utc_now, tag: str = ""
    ) -> None:
        self.root = Path(root) if root is not None else None
        self.tag = _SAFE_NAME.sub("_", tag)
        self.clock = clock
        self.current_scenario: str | None = None
        self._events: list[Event] = []
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._artifacts = 0

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def emit(
        self,
        source: str,
        type: str,
        data: Mapping[str, Any],
        artifacts: Iterable[str] = (),
        scenario: str | None = None,
    ) -> Event:
        with self._lock:
            self._seq += 1
            event = Event(
                id=f"{source}-{self._seq:06d}",
                seq=self._seq,
                time=self.clock(),
                source=source,
                type=type,
                data=dict(data),
                scenario=scenario if scenario is not None else self.current_scenario,
                artifacts=tuple(artifacts),
            )
            self._events.append(event)
            return event

    def store(self, source: str, name: str, content: bytes) -> str:
        with self._lock:
            self._artifacts += 1
            number = self._artifacts
        safe = _SAFE_NAME.sub("_", name).strip("._") or "artifact"
        relative = f"artifacts/{_SAFE_NAME.sub('_', source)}/{self.tag}{number:06d}-{safe}"
        if self.root is None:
            with self._lock:
                self._memory[relative] = bytes(content)
            return relative
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return relative

    def read(self, path: str) -> bytes:
        if self.root is None:
            try:
                return self._memory[path]
            except KeyError:
                raise EvidenceError(f"{path}: no such artifact") from None
        target = (self.root / path).resolve()
        if self.root.resolve() not in target.parents:
            raise EvidenceError(f"{path}: outside the bundle")
        try:
            return target.read_bytes()
        except OSError:
            raise EvidenceError(f"{path}: no such artifact") from None

    def write_trace(self, path: str | Path) -> None:
        write_trace(path, self.events)
