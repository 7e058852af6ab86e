"""What a new REM version asks compared with the previous one: requirements added, removed and changed.

Texts are compared after ``rem.statement.normalise``, so re-typed whitespace or quotes are not reported: an editor
reading the diff sees only what changes the requirement. The GRADeS verification reuses it to say which
requirements a recette book made against an older REM does not cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rem.model import Rem, Requirement, Scenario
from rem.statement import normalise

REQUIREMENT_FIELDS = (
    "statement",
    "section_id",
    "section",
    "bloc",
    "fonction",
    "nature",
    "profil",
    "conditional",
)


@dataclass(frozen=True)
class ScenarioChange:
    id: str
    text: tuple[str, str] | None = None
    proofs_added: tuple[str, ...] = ()
    proofs_removed: tuple[str, ...] = ()
    proofs_changed: tuple[tuple[str, str, str], ...] = ()  # (proof id, old text, new text)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id}
        if self.text:
            out["text"] = {"old": self.text[0], "new": self.text[1]}
        if self.proofs_added:
            out["proofs_added"] = list(self.proofs_added)
        if self.proofs_removed:
            out["proofs_removed"] = list(self.proofs_removed)
        if self.proofs_changed:
            out["proofs_changed"] = [{"id": i, "old": o, "new": n} for i, o, n in self.proofs_changed]
        return out


@dataclass(frozen=True)
class RequirementChange:
    id: str
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (old, new)
    scenarios_added: tuple[str, ...] = ()
    scenarios_removed: tuple[str, ...] = ()
    scenarios_changed: tuple[ScenarioChange, ...] = ()

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id}
        if self.fields:
            out["fields"] = {k: {"old": o, "new": n} for k, (o, n) in sorted(self.fields.items())}
        if self.scenarios_added:
            out["scenarios_added"] = list(self.scenarios_added)
        if self.scenarios_removed:
            out["scenarios_removed"] = list(self.scenarios_removed)
        if self.scenarios_changed:
            out["scenarios_changed"] = [s.to_json() for s in self.scenarios_changed]
        return out


@dataclass(frozen=True)
class RemDiff:
    old_version: str
    new_version: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[RequirementChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, object]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [c.to_json() for c in self.changed],
        }


def _value(requirement: Requirement, name: str) -> str:
    value = getattr(requirement, name)
    if name == "conditional":
        return {True: "OUI", False: "NON", None: "---"}[value]
    return normalise(str(getattr(value, "value", value)))


def _scenario_change(old: Scenario, new: Scenario) -> ScenarioChange | None:
    text = (old.text, new.text) if normalise(old.text) != normalise(new.text) else None
    old_proofs, new_proofs = {p.id: p for p in old.proofs}, {p.id: p for p in new.proofs}
    changed = tuple(
        (pid, old_proofs[pid].text, new_proofs[pid].text)
        for pid in new_proofs
        if pid in old_proofs and normalise(old_proofs[pid].text) != normalise(new_proofs[pid].text)
    )
    change = ScenarioChange(
        old.id,
        text,
        tuple(p for p in new_proofs if p not in old_proofs),
        tuple(p for p in old_proofs if p not in new_proofs),
        changed,
    )
    return change if (text or change.proofs_added or change.proofs_removed or changed) else None


def _requirement_change(old: Requirement, new: Requirement) -> RequirementChange | None:
    fields = {
        name: (_value(old, name), _value(new, name))
        for name in REQUIREMENT_FIELDS
        if _value(old, name) != _value(new, name)
    }
    old_s, new_s = {s.id: s for s in old.scenarios}, {s.id: s for s in new.scenarios}
    changed = tuple(c for sid in new_s if sid in old_s and (c := _scenario_change(old_s[sid], new_s[sid])))
    change = RequirementChange(
        old.id,
        fields,
        tuple(s for s in new_s if s not in old_s),
        tuple(s for s in old_s if s not in new_s),
        changed,
    )
    if fields or change.scenarios_added or change.scenarios_removed or changed:
        return change
    return None


def diff_rems(old: Rem, new: Rem) -> RemDiff:
    old_ids = {r.id for r in old.requirements}
    new_ids = {r.id for r in new.requirements}
    changed = tuple(
        c
        for r in new.requirements
        if r.id in old_ids and (c := _requirement_change(old.requirement(r.id), r)) is not None
    )
    return RemDiff(
        old.version,
        new.version,
        added=tuple(r.id for r in new.requirements if r.id not in old_ids),
        removed=tuple(r.id for r in old.requirements if r.id not in new_ids),
        changed=changed,
    )
