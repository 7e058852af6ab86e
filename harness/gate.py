"""The CI gate: thresholds by nature and section, and waivers for known non-conformities (docs/ci.md).

Why waivers are explicit and dated: a DCC release may ship with a known, justified non-conformity, but it must stay
visible (the book shows it as « non conforme » with the waiver's justification) and it must come back when the
waiver expires — the gate then fails again, saying which waiver expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from rem.model import Nature, Rem
from rules.verdict import Outcome


class GateError(ValueError):
    """A gate file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Waiver:
    requirement: str
    justification: str
    expires: date

    def active(self, today: date) -> bool:
        return today <= self.expires


@dataclass
class GatePolicy:
    # minimum share (0..1) of applicable requirements that must be conforme, per nature and per section
    nature: dict[str, float] = field(default_factory=lambda: {Nature.EXIGENCE.value: 1.0})
    sections: dict[str, float] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)


@dataclass
class GateResult:
    passed: bool
    failures: list[str]
    waived: dict[str, Waiver]
    expired: dict[str, Waiver]


def load_gate(path: Path | None, rem: Rem) -> GatePolicy:
    if path is None:
        return GatePolicy()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise GateError(f"{path}: cannot read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        raise GateError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise GateError(f"{path}: expected a mapping with 'thresholds' and/or 'waivers'")
    policy = GatePolicy()
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise GateError(f"{path}: 'thresholds' must be a mapping")
    for key, target in (("nature", policy.nature), ("sections", policy.sections)):
        for name, value in (thresholds.get(key) or {}).items():
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise GateError(f"{path}: thresholds.{key}.{name}: a share between 0 and 1, got {value!r}")
            target[str(name)] = float(value)
    valid_natures = {n.value for n in Nature}
    for name in policy.nature:
        if name not in valid_natures:
            raise GateError(f"{path}: thresholds.nature.{name}: one of {', '.join(sorted(valid_natures))}")
    sections = {r.section_id for r in rem.requirements}
    for name in policy.sections:
        if name not in sections:
            raise GateError(f"{path}: thresholds.sections.{name}: not a section of {Path(rem.source).name}")
    for index, entry in enumerate(data.get("waivers") or []):
        where = f"{path}: waivers[{index}]"
        if not isinstance(entry, dict):
            raise GateError(f"{where}: expected a mapping with requirement, justification, expires")
        requirement, justification, expires = (
            entry.get("requirement"),
            entry.get("justification"),
            entry.get("expires"),
        )
        if rem.get(str(requirement)) is None:
            raise GateError(
                f"{where}.requirement: {requirement!r} is not a requirement of {Path(rem.source).name}"
            )
        if not isinstance(justification, str) or len(justification.strip()) < 10:
            raise GateError(
                f"{where}.justification: a real justification is required (at least 10 characters)"
            )
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires)
            except ValueError:
                expires = None
        if not isinstance(expires, date):
            raise GateError(f"{where}.expires: a date (YYYY-MM-DD) is required; waivers never last forever")
        policy.waivers.append(Waiver(str(requirement), justification.strip(), expires))
    return policy


def evaluate_gate(
    policy: GatePolicy, rem: Rem, verdicts: dict[str, str], today: date | None = None
) -> GateResult:
    """``verdicts``: requirement id → combined verdict of the run (only the requirements the run judged)."""
    today = today or date.today()
    waived = {
        w.requirement: w
        for w in policy.waivers
        if w.active(today) and verdicts.get(w.requirement) == "non conforme"
    }
    expired = {
        w.requirement: w
        for w in policy.waivers
        if not w.active(today) and verdicts.get(w.requirement) == "non conforme"
    }
    failures: list[str] = []

    def share(ids: list[str]) -> tuple[float, list[str]]:
        applicable = [i for i in ids if verdicts[i] != Outcome.NON_APPLICABLE.value]
        bad = [i for i in applicable if verdicts[i] != Outcome.CONFORME.value and i not in waived]
        return (1.0 - len(bad) / len(applicable)) if applicable else 1.0, bad

    judged = [r for r in rem.requirements if r.id in verdicts]
    for nature, minimum in policy.nature.items():
        value, bad = share([r.id for r in judged if r.nature.value == nature])
        if value + 1e-9 < minimum:
            failures.append(
                f"{nature}: {value:.0%} conforme, {minimum:.0%} required (not conforme: {', '.join(bad)})"
            )
    for section, minimum in policy.sections.items():
        value, bad = share([r.id for r in judged if r.section_id == section])
        if value + 1e-9 < minimum:
            failures.append(
                f"section {section}: {value:.0%} conforme, {minimum:.0%} required ({', '.join(bad)})"
            )
    for requirement, waiver in expired.items():
        failures.append(f"waiver of {requirement} expired on {waiver.expires.isoformat()}")
    return GateResult(not failures, failures, waived, expired)


def waiver_json(waiver: Waiver) -> dict[str, Any]:
    return {"justification": waiver.justification, "expires": waiver.expires.isoformat()}
