"""Verdicts, and the one function that combines outcomes (STYLE.md §2: the whole outcome order in one place)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    CONFORME = "conforme"
    NON_CONFORME = "non conforme"
    NON_APPLICABLE = "non applicable"
    NON_EVALUE = "non évalué"


# Strongest first: one failing scenario makes the requirement non conforme; an unevaluated one keeps it from
# being conforme; non applicable only when nothing else applies.
_ORDER = (Outcome.NON_CONFORME, Outcome.NON_EVALUE, Outcome.CONFORME, Outcome.NON_APPLICABLE)


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """The verdict of several outcomes (triggers of one scenario, scenarios of one requirement). Nothing observed
    is ``non évalué``, never a silent ``conforme``."""
    present = set(outcomes)
    for outcome in _ORDER:
        if outcome in present:
            return outcome
    return Outcome.NON_EVALUE


@dataclass(frozen=True)
class Verdict:
    """Requirement × scenario verdict, with what ``verify`` needs to replay it: the events and artifacts it rests
    on, the rule file and its hash."""

    requirement: str
    scenario: str
    verdict: Outcome
    reasons: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    rule_file: str | None = None
    rule_sha256: str | None = None
    manual_proof: str = ""
    engine: str = ""  # which engine matched the events: "durable_rules", or the Python fallback (said so)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requirement": self.requirement,
            "scenario": self.scenario,
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "events": list(self.events),
            "artifacts": list(self.artifacts),
            "rule_file": self.rule_file,
            "rule_sha256": self.rule_sha256,
        }
        if self.manual_proof:
            out["manual_proof"] = self.manual_proof
        if self.engine:
            out["engine"] = self.engine
        return out
