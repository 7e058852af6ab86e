"""Writes a proof bundle (docs/proof-bundle.md) from a finished run: ``trace.jsonl``, the reports, then the manifest
with the sha256 of every file, then (optionally) the manifest's detached signature.

The manifest is written last and atomically, so a bundle whose run was interrupted has no manifest and cannot be
mistaken for a complete one."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from proofs import manifest as mf
from proofs import signing
from proofs.allure import write_allure
from proofs.book import write_book
from proofs.html_report import write_html
from proofs.junit import write_junit
from rem.model import Rem
from rules.trace import Event, write_trace
from rules.verdict import Outcome, combine


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_bundle(
    bundle: Path,
    *,
    rem: Rem,
    rule_files: dict[str, str],
    profile: dict[str, Any],
    profile_source: str,
    target: dict[str, Any],
    harness_version: str,
    started: datetime,
    finished: datetime,
    results: list[dict[str, Any]],
    trace: list[Event],
    scenarios: dict[str, dict[str, Any]],
    sign_key: Path | None = None,
    gate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Writes everything but the artifacts (the scenarios wrote those under ``artifacts/`` as they ran)."""
    bundle.mkdir(parents=True, exist_ok=True)
    write_trace(bundle / "trace.jsonl", trace)
    summary: dict[str, Any] = {"results": {v: 0 for v in mf.VERDICTS}}
    for result in results:
        summary["results"][result["verdict"]] += 1
    document: dict[str, Any] = {
        "format": mf.FORMAT,
        "format_version": mf.FORMAT_VERSION,
        "hash_algorithm": "sha256",
        "harness": {"name": "dcc-recette", "version": harness_version},
        "rem": {"file": Path(rem.source).name, "version": rem.version, "sha256": rem.sha256},
        "rule_files": dict(sorted(rule_files.items())),
        "profile": profile,
        "profile_source": profile_source,
        "target": target,
        "started": _iso(started),
        "finished": _iso(finished),
        "scenarios": scenarios,
        "results": results,
        "gate": gate,
    }
    write_book(bundle / "recette-book.xlsx", rem, results, finished)
    write_junit(bundle / "junit.xml", results)
    write_allure(bundle / "allure-results", bundle, results, started, finished)
    write_html(bundle / "report.html", rem, document)
    requirement_verdicts = _requirement_verdicts(results)
    summary["requirements"] = {v: list(requirement_verdicts.values()).count(v) for v in mf.VERDICTS}
    document["summary"] = summary
    document["requirements"] = requirement_verdicts
    document["files"] = mf.bundle_files(bundle)
    data = mf.dumps(document)
    _atomic_write(bundle / mf.MANIFEST, data)
    signature = bundle / mf.SIGNATURE
    if sign_key is not None:
        _atomic_write(signature, signing.sign(data, signing.load_private(sign_key)))
    elif signature.exists():
        signature.unlink()  # a stale signature of an earlier run in the same directory would not verify
    return document


def _requirement_verdicts(results: list[dict[str, Any]]) -> dict[str, str]:
    grouped: dict[str, list[Outcome]] = {}
    for result in results:
        grouped.setdefault(result["requirement"], []).append(Outcome(result["verdict"]))
    return {rid: combine(outcomes).value for rid, outcomes in sorted(grouped.items())}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
