"""Traceability between the REM and the rule files (cnspec-style lint, STYLE.md §3): requirements without rule,
rules without requirement, rules whose REM statement changed since they were written (drift), load errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from rem.model import Rem
from rem.statement import normalise
from rules.loader import RuleError, RuleSet


def statement_sha256(statement: str) -> str:
    """The hash a rule records: whitespace and quote style are not drift, a changed word is."""
    return hashlib.sha256(normalise(statement).encode("utf-8")).hexdigest()


@dataclass
class CheckReport:
    unbound: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    drifted: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    automatic: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unbound or self.orphans or self.drifted or self.errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "unbound": self.unbound,
            "orphans": self.orphans,
            "drifted": self.drifted,
            "errors": [e.to_json() for e in self.errors],
            "manual": self.manual,
            "automatic": self.automatic,
        }


def check(rules: RuleSet, rem: Rem) -> CheckReport:
    report = CheckReport(errors=list(rules.errors))
    known = {r.id for r in rem.requirements}
    for requirement in rem.requirements:
        rule = rules.rules.get(requirement.id)
        if rule is None:
            if not any(e.requirement == requirement.id for e in rules.errors):
                report.unbound.append(requirement.id)
            continue
        expected = statement_sha256(requirement.statement)
        if rule.rem_text_sha256 != expected:
            report.drifted.append(
                {
                    "requirement": requirement.id,
                    "file": rule.file,
                    "line": rule.line,
                    "rule_sha256": rule.rem_text_sha256,
                    "rem_sha256": expected,
                }
            )
        (report.manual if rule.manuelle else report.automatic).append(requirement.id)
    report.orphans = sorted(rid for rid in rules.rules if rid not in known)
    return report


def accept(rules: RuleSet, rem: Rem, requirement_ids: list[str], rules_dir) -> list[str]:
    """Records the current REM statement hash in the rules of ``requirement_ids`` (after a person has reviewed
    that the rule still formalises the changed statement). Returns the ids updated."""
    from pathlib import Path

    updated = []
    for rid in requirement_ids:
        rule = rules.rules.get(rid)
        requirement = rem.get(rid)
        if rule is None or requirement is None:
            raise KeyError(f"{rid}: needs both a rule and a REM requirement")
        path = Path(rules_dir) / rule.file
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for index in range(rule.line, min(rule.line + 40, len(lines))):
            if lines[index].strip().startswith("rem_text_sha256:"):
                head = lines[index].split("rem_text_sha256:")[0]
                lines[index] = f"{head}rem_text_sha256: '{statement_sha256(requirement.statement)}'\n"
                break
        else:
            raise KeyError(f"{rid}: no rem_text_sha256 line under {rule.file}:{rule.line}")
        path.write_text("".join(lines), encoding="utf-8")
        updated.append(rid)
    return updated
