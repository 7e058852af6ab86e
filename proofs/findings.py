"""What ``dcc-recette verify`` concludes: findings, one status per requirement, and the whole verification.

A GRADeS/DSRC reviewer's compte-rendu names, per requirement, whether it is accepted, which points the editor must
correct and which tests it must replay (seed 001 §3.2). A finding is one such point, with the check that raised it
and the file or requirement it concerns; a requirement's status is the worst status of its findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    ACCEPTE = "accepté"
    A_REJOUER = "à rejouer"  # the test must be (re)played: not run, not covered, evidence missing or altered
    A_CORRIGER = "à corriger"  # a defect: the DCC is non conforme, or the dossier's claims do not hold


_RANK = {Status.ACCEPTE: 0, Status.A_REJOUER: 1, Status.A_CORRIGER: 2}


def worst(statuses) -> Status:
    return max(statuses, key=_RANK.__getitem__, default=Status.ACCEPTE)


class Check(StrEnum):
    """Which part of the verification raised a finding (docs/verify.md lists them)."""

    MANIFEST = "manifeste"
    SIGNATURE = "signature"
    INTEGRITY = "intégrité"
    REM = "REM"
    COMPLETENESS = "complétude"
    RULES = "règles"
    TRACE = "trace"
    REPLAY = "réévaluation"
    BOOK = "cahier"
    CDA = "CDA"
    EMAIL = "courriel"
    VERDICT = "verdict"


@dataclass(frozen=True)
class Finding:
    check: Check
    status: Status
    message: str
    requirement: str | None = None  # None: a finding on the whole bundle
    file: str | None = None  # bundle-relative path the finding is about

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "status": self.status.value,
            "message": self.message,
            "requirement": self.requirement,
            "file": self.file,
        }

    def __str__(self) -> str:
        where = " ".join(x for x in (self.requirement, self.file) if x)
        return f"[{self.status.value}] {self.check.value}{' ' + where if where else ''}: {self.message}"


@dataclass
class RequirementReport:
    """One row of the compte-rendu."""

    id: str
    section: str = ""
    statement: str = ""
    mandatory: bool | None = None
    claimed: str | None = None  # verdict the manifest claims (None: the bundle has no verdict for it)
    replayed: str | None = None  # verdict of the rules replayed on trace.jsonl (None: replay impossible)
    status: Status = Status.ACCEPTE
    reasons: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    in_region_rem: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "statement": self.statement,
            "mandatory": self.mandatory,
            "claimed": self.claimed,
            "replayed": self.replayed,
            "status": self.status.value,
            "reasons": list(self.reasons),
            "files": list(self.files),
            "in_region_rem": self.in_region_rem,
        }


@dataclass
class Verification:
    bundle: str
    facts: dict[str, Any] = field(default_factory=dict)  # harness, REMs, target, dates, signature state
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said, never a reason to refuse (unchecked signature…)
    requirements: dict[str, RequirementReport] = field(default_factory=dict)
    out_of_scope: list[str] = field(default_factory=list)  # region REM requirements the bundle does not claim
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, check: Check, status: Status, message: str, requirement=None, file=None) -> None:
        self.findings.append(Finding(check, status, message, requirement, file))

    @property
    def general_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.requirement is None]

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def exit_status(self) -> int:
        return 0 if self.accepted else 1

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for report in self.requirements.values():
            out[report.status.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "dcc-recette/verification",
            "format_version": 1,
            "bundle": self.bundle,
            "accepted": self.accepted,
            "exit_status": self.exit_status,
            "facts": self.facts,
            "counts": self.counts(),
            "requirements": [r.to_json() for r in self.requirements.values()],
            "findings": [f.to_json() for f in self.findings],
            "notes": list(self.notes),
            "out_of_scope": list(self.out_of_scope),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
