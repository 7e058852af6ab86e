"""Completeness of a bundle: against its own REM, every scenario of every requirement it claims has a verdict and
every expected proof a file; against the REM the region uses (possibly newer), which requirements it does not
cover (``rem.diff``: added in a section it covers, or changed since).

The bundle's scope is the requirements it has results for: an editor submits the cases of what it asks to have
validated (seed 001 §3.2), so the region REM's other requirements are listed as out of scope, not refused — except
those a newer REM adds to a section the bundle covers, which are new work.
"""

from __future__ import annotations

from typing import Any

from proofs.findings import Check, Status, Verification
from rem.diff import RemDiff, RequirementChange, diff_rems
from rem.model import Rem
from rules.loader import RuleSet


def _section(rid: str, *rems: Rem | None) -> str:
    for rem in rems:
        requirement = rem.get(rid) if rem is not None else None
        if requirement is not None:
            return requirement.section_id
    return rid.rsplit(".", 1)[0]


def check_against_own_rem(
    results: list[dict[str, Any]],
    rem: Rem,
    files: dict[str, str],
    rules: RuleSet,
    out: Verification,
    manual: dict[str, list[str]] | None = None,
) -> None:
    """Scenarios without a verdict, proofs without a file, manual proofs missing (``manual``: the ones the editor
    added after the run, by proof id), ``mandatory`` wrongly stated."""
    by_requirement: dict[str, dict[str, dict[str, Any]]] = {}
    for result in results:
        by_requirement.setdefault(result["requirement"], {})[result["scenario"]] = result
    for rid, scenarios in by_requirement.items():
        requirement = rem.get(rid)
        if requirement is None:
            out.add(
                Check.COMPLETENESS,
                Status.A_CORRIGER,
                f"a verdict for a requirement that REM {rem.version} does not have",
                requirement=rid,
            )
            continue
        mandatory = requirement.nature.value == "EXIGENCE"
        for scenario in requirement.scenarios:
            result = scenarios.get(scenario.id)
            if result is None:
                out.add(
                    Check.COMPLETENESS,
                    Status.A_REJOUER,
                    f"scenario {scenario.id} of REM {rem.version} has no verdict in the bundle",
                    requirement=rid,
                )
                continue
            if result.get("mandatory") is not mandatory:
                out.add(
                    Check.COMPLETENESS,
                    Status.A_CORRIGER,
                    f"{scenario.id}: 'mandatory' is {result.get('mandatory')!r}, the REM says "
                    f"{requirement.nature.value}",
                    requirement=rid,
                )
            _proofs(rid, scenario, result, files, rules, out, manual or {})
        for sid in scenarios:
            if sid not in {s.id for s in requirement.scenarios}:
                out.add(
                    Check.COMPLETENESS,
                    Status.A_CORRIGER,
                    f"a verdict for scenario {sid}, which REM {rem.version} does not have",
                    requirement=rid,
                )


def _proofs(
    rid: str, scenario, result: dict[str, Any], files: dict[str, str], rules: RuleSet, out, manual
) -> None:
    expected = {
        p.get("id"): p for p in result.get("expected_proofs") or [] if isinstance(p, dict) and p.get("id")
    }
    for proof in scenario.proofs:
        if proof.id not in expected:
            out.add(
                Check.COMPLETENESS,
                Status.A_CORRIGER,
                f"proof {proof.id} of the REM is not among the result's expected proofs",
                requirement=rid,
            )
    for path in [
        *(result.get("proofs") or []),
        *(d for p in expected.values() for d in p.get("delivered") or []),
    ]:
        if path not in files:
            out.add(
                Check.COMPLETENESS,
                Status.A_CORRIGER,
                "a proof file of the result is not in the manifest's file list",
                requirement=rid,
                file=str(path),
            )
    rule = rules.rules.get(rid)
    verdict = result["verdict"]
    delivered = [d for p in expected.values() for d in p.get("delivered") or []]
    if rule is not None and rule.manuelle:
        delivered += [path for proof in scenario.proofs for path in manual.get(proof.id, [])]
        if not delivered:
            out.add(
                Check.COMPLETENESS,
                Status.A_REJOUER,
                f"{scenario.id}: manual proof expected and absent from the bundle: {rule.preuve_attendue}",
                requirement=rid,
            )
        return
    if verdict == "non applicable" or (verdict == "non évalué" and result.get("execution") is None):
        return  # nothing was due, or the test itself is still to play (said by its verdict)
    for proof in scenario.proofs:
        if not (expected.get(proof.id) or {}).get("delivered"):
            out.add(
                Check.COMPLETENESS,
                Status.A_REJOUER,
                f"{scenario.id}: no file for proof {proof.id} « {proof.text} »",
                requirement=rid,
            )


def check_against_region_rem(
    results: list[dict[str, Any]],
    editor: Rem | None,
    region: Rem,
    out: Verification,
) -> RemDiff | None:
    """What the region's REM asks that the bundle does not cover. Returns the diff when both REMs are known."""
    claimed = list(dict.fromkeys(r["requirement"] for r in results))
    claimed_set = set(claimed)
    covered_sections = {_section(rid, editor, region) for rid in claimed}
    new_work: set[str] = set()
    diff = None
    if editor is None:
        # The bundle's REM is unknown (said as a finding by the caller): ids are all we can compare.
        claimed_pairs = {(r["requirement"], r["scenario"]) for r in results}
        for rid in claimed:
            requirement = region.get(rid)
            for scenario in requirement.scenarios if requirement is not None else ():
                if (rid, scenario.id) not in claimed_pairs:
                    out.add(
                        Check.REM,
                        Status.A_REJOUER,
                        f"scenario {scenario.id} of REM {region.version} has no verdict in the bundle",
                        requirement=rid,
                    )
    elif editor.sha256 != region.sha256:
        diff = diff_rems(editor, region)
        for rid in diff.added:
            if region.requirement(rid).section_id in covered_sections:
                new_work.add(rid)
                out.add(
                    Check.REM,
                    Status.A_REJOUER,
                    f"new in REM {region.version} (not in {editor.version}, the bundle's), in a section the "
                    "bundle covers: not covered",
                    requirement=rid,
                )
        for change in diff.changed:
            if change.id in claimed_set:
                out.add(
                    Check.REM,
                    Status.A_REJOUER,
                    f"changed between REM {editor.version} (the bundle's) and {region.version}: {describe(change)}",
                    requirement=change.id,
                )
        for rid in diff.removed:
            if rid in claimed_set:
                out.notes.append(
                    f"{rid}: no longer in REM {region.version}; its verdict is not required any more"
                )
    out.out_of_scope = [r.id for r in region.requirements if r.id not in claimed_set and r.id not in new_work]
    return diff


def describe(change: RequirementChange) -> str:
    parts = []
    if change.fields:
        parts.append("fields " + ", ".join(sorted(change.fields)))
    if change.scenarios_added:
        parts.append("scenarios added " + ", ".join(change.scenarios_added))
    if change.scenarios_removed:
        parts.append("scenarios removed " + ", ".join(change.scenarios_removed))
    for scenario in change.scenarios_changed:
        what = []
        if scenario.text:
            what.append("text")
        if scenario.proofs_added:
            what.append("proofs added " + ", ".join(scenario.proofs_added))
        if scenario.proofs_removed:
            what.append("proofs removed " + ", ".join(scenario.proofs_removed))
        if scenario.proofs_changed:
            what.append("proofs changed " + ", ".join(p[0] for p in scenario.proofs_changed))
        parts.append(f"{scenario.id} ({'; '.join(what)})")
    return "; ".join(parts)
