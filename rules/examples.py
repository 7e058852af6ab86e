"""The example traces beside each rule file (``rules/fixtures/<CHAPTER>.yaml``): for every automatic rule, one
trace it must judge ``conforme`` and one it must judge ``non conforme`` — the proof that the rule can fail.

A fixture event is ``[type, data]`` or ``[type, data, [artifact paths]]``; artifacts are relative to
``rules/fixtures/``. The source of an event follows its type (``dmp.*`` from the DMP simulator, ``document.*`` from
the DCC…), and every event gets the rule's first scenario id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rules.trace import Event

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
_SOURCES = {
    "dmp": "dmp",
    "mss": "mss",
    "insi": "insi",
    "psc": "psc",
    "annuaire": "annuaire",
    "peer": "peer-dcc",
    "dpi": "dpi",
    "harness": "harness",
}


def source_of(event_type: str) -> str:
    return _SOURCES.get(event_type.split(".", 1)[0], "dcc")


def to_events(items: list[Any], scenario: str, first_seq: int = 1, prefix: str = "e") -> list[Event]:
    events = []
    for offset, item in enumerate(items):
        event_type, data = item[0], item[1]
        artifacts = tuple(item[2]) if len(item) > 2 else ()
        seq = first_seq + offset
        events.append(
            Event(
                f"{prefix}{seq:07d}",
                seq,
                f"2026-01-01T00:00:{offset % 60:02d}.000000Z",
                source_of(event_type),
                event_type,
                data or {},
                scenario,
                artifacts,
            )
        )
    return events


def load_examples(directory: Path = FIXTURES_DIR) -> dict[str, dict[str, list[Any]]]:
    examples: dict[str, dict[str, list[Any]]] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rid, cases in data.items():
            examples[rid] = cases
    return examples
