"""Bundles for the verification tests: made by the real `dcc-recette run` (one per test module, copied per test),
and the small edits an editor — honest or not — could make to one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from proofs import manifest as mf
from proofs import signing

# The DOC scenarios whose requirements the reference DCC meets with every REM proof delivered: a bundle of these
# is what a region accepts as is. (DOC.03 lacks its CDA proof, DOC.04 and DOC.06 have no executable scenario.)
ACCEPTED = ["DOC.01.01", "DOC.02.01", "DOC.05.01", "DOC.07.01", "DOC.08.01", "DOC.09.01"]


def make_bundle(out: Path, only: list[str] = ACCEPTED, *extra: str) -> Path:
    """``only`` empty: the whole REM."""
    status = main(["run", *(["--only", *only] if only else []), "--out", str(out), "--jobs", "1", *extra])
    assert status in (0, 1), status
    assert (out / mf.MANIFEST).is_file()
    return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One untouched bundle per test module (read-only: tests work on copies)."""
    return make_bundle(tmp_path_factory.mktemp("pristine") / "bundle")


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    return copy(pristine, tmp_path / "bundle")


def copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def load(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / mf.MANIFEST).read_text(encoding="utf-8"))


def save(bundle: Path, document: dict[str, Any], rehash: bool = False, key: Path | None = None) -> None:
    """Writes the manifest back; ``rehash`` recomputes every file's sha256 as a dishonest editor would (or an
    honest one adding a proof), ``key`` signs it again."""
    if rehash:
        document["files"] = mf.bundle_files(bundle)
    data = mf.dumps(document)
    (bundle / mf.MANIFEST).write_bytes(data)
    if key is not None:
        (bundle / mf.SIGNATURE).write_bytes(signing.sign(data, signing.load_private(key)))


def result(document: dict[str, Any], requirement: str) -> dict[str, Any]:
    return next(r for r in document["results"] if r["requirement"] == requirement)


def add_proof(bundle: Path, requirement: str, proof_id: str, name: str, content: bytes) -> str:
    """Adds a file to a result's proofs (as the evidence a trace event points to: the book's proof columns stay
    as they are) and re-lists the bundle."""
    relative = f"artifacts/{proof_id}/{name}"
    path = bundle / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    document = load(bundle)
    entry = result(document, requirement)
    entry["proofs"] = sorted({*entry["proofs"], relative})
    save(bundle, document, rehash=True)
    return relative


def findings_about(verification, file: str | None = None, requirement: str | None = None, check=None):
    return [
        f
        for f in verification.findings
        if (file is None or f.file == file)
        and (requirement is None or f.requirement == requirement)
        and (check is None or f.check == check)
    ]
