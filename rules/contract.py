"""The events and fields the rules read: the contract the reference DCC, the simulators and an editor's
test-driver must honour (``docs/trace-events.md`` lists it; a test keeps the two in step)."""

from __future__ import annotations

from collections import defaultdict

from rules.expr import fields
from rules.loader import RuleSet


def events_read(rules: RuleSet) -> dict[str, dict[str, set[str]]]:
    """event type -> field -> requirement ids reading it."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rule in rules.rules.values():
        if rule.manuelle or rule.lorsque is None:
            continue
        trigger = rule.lorsque.event
        for pattern in (rule.lorsque, *rule.doit, *rule.ne_doit_pas):
            used = (
                {f for f in fields(pattern.quand) if not f.startswith("trigger.")} if pattern.quand else set()
            )
            used |= {own for own, _ in pattern.correler}
            for name in used or {""}:
                out[pattern.event][name.split(".")[0]].add(rule.requirement)
            for _, theirs in pattern.correler:
                out[trigger][theirs].add(rule.requirement)
            if pattern.quand is not None:
                for name in fields(pattern.quand):
                    if name.startswith("trigger."):
                        out[trigger][name[len("trigger.") :].split(".")[0]].add(rule.requirement)
    return out


def markdown_table(rules: RuleSet) -> str:
    rows = ["| event type | fields the rules read | read by |", "|---|---|---|"]
    for event_type, by_field in sorted(events_read(rules).items()):
        names = sorted(f for f in by_field if f)
        readers = sorted({r for ids in by_field.values() for r in ids})
        shown = ", ".join(readers[:6]) + (f" (+{len(readers) - 6})" if len(readers) > 6 else "")
        rows.append(f"| `{event_type}` | {', '.join(f'`{n}`' for n in names) or '—'} | {shown} |")
    return "\n".join(rows)
