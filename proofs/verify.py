"""``dcc-recette verify``: what a GRADeS/DSRC does with an editor's proof bundle before accepting its recette.

It checks instead of trusting (docs/verify.md): the manifest and its signature, every file against its sha256
(integrity); the bundle against the REM the region uses (completeness); the verdicts replayed from ``trace.jsonl``
with the run's rules and profile and compared with the manifest and the recette book (re-evaluation); every CDA
re-validated and every e-mail re-parsed (content). The result is a compte-rendu: per requirement accepted, to
correct or to replay, with the reasons.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
from proofs import artifact_checks, book_check, coverage, integrity, replay
from proofs import manifest as mf
from proofs.findings import Check, Finding, RequirementReport, Status, Verification, worst
from proofs.integrity import BundleError, ManifestGarbled
from rem import default_rem_path
from rem.loader import RemFormatError, load_rem
from rem.model import Rem
from rules.loader import RULES_DIR, RuleSet, load_rules
from rules.trace import Event, TraceError, read_trace
from rules.verdict import Outcome, combine

__all__ = ["BundleError", "verify_bundle"]


def _load(path: Path, what: str) -> Rem:
    try:
        stat = path.stat()
        return _load_cached(path.resolve(), stat.st_mtime_ns, stat.st_size)
    except OSError as error:
        raise BundleError(f"{what}: {path}: cannot read ({error.strerror or error})") from None
    except RemFormatError as error:
        raise BundleError(f"{what}: {error}") from None


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Rem:
    """A region verifying several bundles loads its REM once (the key changes when the file does)."""
    return load_rem(path).rem


def _rules(directory: Path) -> RuleSet:
    files = tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(Path(directory).glob("*.yaml"))
    )
    return _rules_cached(Path(directory).resolve(), files)


@functools.lru_cache(maxsize=4)
def _rules_cached(directory: Path, files: tuple) -> RuleSet:
    return load_rules(directory)


def _editor_rem(claimed: dict[str, Any], region: Rem, candidates: list[Path]) -> Rem | None:
    """The REM the bundle was made against, found by its sha256 among the region's, the one given with
    --editor-rem and the one this harness ships."""
    wanted = claimed.get("sha256")
    if wanted == region.sha256:
        return region
    for path in candidates:
        if path.is_file():
            rem = _load(path, "--editor-rem" if path != default_rem_path() else "the shipped REM")
            if rem.sha256 == wanted:
                return rem
    return None


class _Owners:
    """Which requirements a bundle file is evidence for: the results' proof files, the artifacts of the trace
    events of their scenarios, the proof id folder (``artifacts/<proof id>/``); the trace is everyone's."""

    def __init__(self, results: list[dict[str, Any]], events: list[Event], rems: list[Rem]) -> None:
        self.all = {r["requirement"] for r in results}
        self.by_path: dict[str, set[str]] = {}
        self.by_folder: dict[str, set[str]] = {}
        by_scenario: dict[str, set[str]] = {}
        for result in results:
            rid = result["requirement"]
            by_scenario.setdefault(result["scenario"], set()).add(rid)
            for path in result.get("proofs") or []:
                self.by_path.setdefault(str(path), set()).add(rid)
            for proof in result.get("expected_proofs") or []:
                if isinstance(proof, dict):
                    self.by_folder.setdefault(str(proof.get("id", "")).replace("/", "_"), set()).add(rid)
                    for path in proof.get("delivered") or []:
                        self.by_path.setdefault(str(path), set()).add(rid)
        for event in events:
            for path in event.artifacts:
                self.by_path.setdefault(path, set()).update(by_scenario.get(event.scenario or "", ()))
        for rem in rems:
            for requirement in rem.requirements:
                for proof in requirement.proofs:
                    self.by_folder.setdefault(proof.id.replace("/", "_"), set()).add(requirement.id)

    def __call__(self, path: str) -> set[str]:
        if path == replay.TRACE:
            return set(self.all)
        found = set(self.by_path.get(path, ()))
        parts = path.split("/")
        if len(parts) > 2 and parts[0] == "artifacts":
            found |= self.by_folder.get(parts[1], set())
        return found


def _events_for_attribution(bundle: Path) -> list[Event]:
    try:
        return read_trace(bundle / replay.TRACE) if (bundle / replay.TRACE).is_file() else []
    except (TraceError, UnicodeDecodeError, OSError):
        return []


def verify_bundle(
    bundle: Path,
    *,
    rem: Path | None = None,
    editor_rem: Path | None = None,
    pubkey: Path | None = None,
    cisis_dir: Path | None = None,
    validator_factory: Callable[[], Any] | None = None,
    rules_dir: Path = RULES_DIR,
) -> Verification:
    """Verifies ``bundle`` against the region's REM (``rem``, default: the REM this harness ships).

    Raises BundleError when there is nothing to verify (exit 2); every other problem is a finding."""
    started = time.perf_counter()
    bundle = Path(bundle)
    out = Verification(str(bundle))
    region = _load(rem or default_rem_path(), "--rem")
    try:
        opened = integrity.open_manifest(bundle)
    except ManifestGarbled as error:
        out.add(Check.MANIFEST, Status.A_CORRIGER, str(error), file=mf.MANIFEST)
        out.facts = {"region_rem": _rem_facts(region)}
        out.timings["total"] = time.perf_counter() - started
        return out
    document = opened.document
    clean = integrity.check_structure(document, out)
    results: list[dict[str, Any]] = clean["results"]
    scenarios: dict[str, Any] = clean.get("scenarios", {})
    claimed_rem = clean.get("rem", {})
    editor = _editor_rem(claimed_rem, region, [p for p in (editor_rem, default_rem_path()) if p is not None])
    made_by = clean.get("harness", {})
    out.facts = {
        "harness": made_by,
        "verifier": {"name": "dcc-recette", "version": harness.__version__},
        "format_version": document.get("format_version"),
        "editor_rem": {**claimed_rem, "known": editor is not None},
        "region_rem": _rem_facts(region),
        "target": clean.get("target", {}),
        "profile_source": document.get("profile_source"),
        "started": clean.get("started"),
        "finished": clean.get("finished"),
    }
    if made_by.get("version") != harness.__version__:
        out.notes.append(
            f"bundle made by dcc-recette {made_by.get('version')}, verified with {harness.__version__}: the replay "
            "uses this version's engine on the run's rule files (compared by sha256)"
        )
    if editor is None:
        out.add(
            Check.REM,
            Status.A_REJOUER,
            f"the bundle's REM ({claimed_rem.get('file')}, version {claimed_rem.get('version')}, sha256 "
            f"{str(claimed_rem.get('sha256'))[:12]}…) is unknown here: give it with --editor-rem to see what "
            f"changed; the bundle is compared with REM {region.version} by ids only",
        )
    rules = _rules(rules_dir)
    out.timings["load"] = time.perf_counter() - started
    mark = time.perf_counter()
    out.facts["signature"] = integrity.check_signature(bundle, opened.data, pubkey, out)
    owners = _Owners(results, _events_for_attribution(bundle), [r for r in (editor, region) if r is not None])
    if "files" in clean:
        on_disk, doubtful, manual = integrity.check_files(
            bundle, clean["files"], out, owners, _manual_folders(results, rules, editor or region)
        )
    else:  # no file list (a finding already): nothing on disk can be trusted
        on_disk, _links = integrity.walk(bundle)
        doubtful, manual = set(on_disk), {}
    out.facts["files"] = len(on_disk)
    out.timings["integrity"] = time.perf_counter() - mark

    mark = time.perf_counter()
    changed_rules = replay.check_rule_files(clean.get("rule_files", {}), rules, out)
    events = replay.read(bundle, doubtful, scenarios, out)
    replayed = None
    if events is not None and results:
        replayed = replay.replay(
            events, rules, replay.pairs_rem(editor, results), clean.get("profile", {}), bundle, scenarios, out
        )
        if replayed is not None:
            replay.compare(results, replayed, scenarios, changed_rules, out)
    requirement_replayed = replay.compare_requirements(
        clean.get("requirements", {}), clean.get("summary", {}), results, replayed, out
    )
    out.timings["replay"] = time.perf_counter() - mark

    mark = time.perf_counter()
    book_check.compare_book(bundle, results, replayed, out)
    out.timings["book"] = time.perf_counter() - mark

    mark = time.perf_counter()
    if editor is not None:
        coverage.check_against_own_rem(results, editor, clean.get("files", {}), rules, out, manual)
    coverage.check_against_region_rem(results, editor, region, out)
    out.timings["completeness"] = time.perf_counter() - mark

    mark = time.perf_counter()
    # the listed files (even altered: a modified CDA is also re-validated) and the manual proofs; never the rest
    safe = {p: path for p, path in on_disk.items() if p in clean.get("files", {}) or p not in doubtful}
    factory = validator_factory or _validator_factory(cisis_dir)
    out.facts["checked"] = artifact_checks.check_artifacts(safe, owners, out, factory)
    out.timings["artifacts"] = time.perf_counter() - mark

    _verdict_findings(results, replayed, rules, region, editor, out)
    _assemble(results, requirement_replayed, clean.get("requirements", {}), region, editor, out)
    out.timings["total"] = time.perf_counter() - started
    return out


def _manual_folders(results: list[dict[str, Any]], rules: RuleSet, rem: Rem) -> dict[str, str]:
    """``artifacts/`` folder name → proof id, for the proofs of the claimed requirements a manual rule judges."""
    folders = {}
    for rid in {r["requirement"] for r in results}:
        rule, requirement = rules.rules.get(rid), rem.get(rid)
        if rule is not None and rule.manuelle and requirement is not None:
            folders.update({p.id.replace("/", "_"): p.id for p in requirement.proofs})
    return folders


def _validator_factory(cisis_dir: Path | None) -> Callable[[], Any]:
    def make():
        from harness.cda import Validator

        return Validator(cisis_dir=cisis_dir)

    return make


def _rem_facts(rem: Rem) -> dict[str, Any]:
    return {"file": rem.source, "version": rem.version, "sha256": rem.sha256}


def _verdict_findings(
    results: list[dict[str, Any]],
    replayed: dict | None,
    rules: RuleSet,
    region: Rem,
    editor: Rem | None,
    out: Verification,
) -> None:
    """The recette's own outcome: a non conforme requirement is a point to correct, a non évalué one a test to
    play. Requirements the region's REM no longer has are not judged on their verdict."""
    for result in results:
        rid, sid = result["requirement"], result["scenario"]
        if region.get(rid) is None:
            continue
        rule = rules.rules.get(rid)
        if rule is not None and rule.manuelle:
            continue  # coverage says whether the manual proof is there
        again = replayed.get((rid, sid)) if replayed is not None else None
        verdict = again.verdict if again is not None else result["verdict"]
        reasons = again.reasons if again is not None else list(result.get("reasons") or [])
        why = "; ".join(reasons[:3]) or "(no reason given)"
        nature = "" if result.get("mandatory", True) else " (préconisation)"
        if verdict == Outcome.NON_CONFORME.value:
            waiver = result.get("waiver")
            if isinstance(waiver, dict):  # the editor's CI waiver does not bind the region: said, not obeyed
                nature += f" (dérogation de l'éditeur jusqu'au {waiver.get('expires')} : {waiver.get('justification')})"
            out.add(Check.VERDICT, Status.A_CORRIGER, f"{sid}: non conforme{nature}: {why}", requirement=rid)
        elif verdict == Outcome.NON_EVALUE.value:
            out.add(Check.VERDICT, Status.A_REJOUER, f"{sid}: non évalué: {why}", requirement=rid)


def _assemble(
    results: list[dict[str, Any]],
    requirement_replayed: dict[str, str],
    claimed: dict[str, Any],
    region: Rem,
    editor: Rem | None,
    out: Verification,
) -> None:
    by_requirement: dict[str, list[Finding]] = {}
    for finding in out.findings:
        if finding.requirement is not None:
            by_requirement.setdefault(finding.requirement, []).append(finding)
    own: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        own.setdefault(result["requirement"], []).append(result)
    order = [r.id for r in region.requirements]
    ids = list(dict.fromkeys([*own, *by_requirement]))
    ids.sort(key=lambda rid: (order.index(rid) if rid in order else len(order), rid))
    for rid in ids:
        requirement = region.get(rid) or (editor.get(rid) if editor is not None else None)
        findings = by_requirement.get(rid, [])
        mine = own.get(rid, [])
        report = RequirementReport(
            id=rid,
            section=requirement.section_id if requirement else rid.rsplit(".", 1)[0],
            statement=requirement.statement if requirement else "",
            mandatory=(requirement.nature.value == "EXIGENCE") if requirement else None,
            claimed=(
                claimed.get(rid)
                if isinstance(claimed.get(rid), str)
                else (combine(Outcome(r["verdict"]) for r in mine).value if mine else None)
            ),
            replayed=requirement_replayed.get(rid),
            status=worst(f.status for f in findings),
            reasons=[f"{f.check.value}: {f.message}" + (f" [{f.file}]" if f.file else "") for f in findings],
            files=sorted({str(p) for r in mine for p in r.get("proofs") or []}),
            in_region_rem=region.get(rid) is not None,
        )
        if not findings:
            verdict = report.replayed or report.claimed
            report.reasons = [
                f"« {verdict} » confirmé par la réévaluation ; preuves intègres et complètes"
                if verdict != "non évalué"
                else "preuve manuelle fournie et intègre : son contenu est à examiner par le relecteur"
            ]
            if verdict == "non applicable":
                report.reasons.append("; ".join(r for m in mine for r in (m.get("reasons") or [])[:1]))
        out.requirements[rid] = report
