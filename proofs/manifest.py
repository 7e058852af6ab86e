"""The proof bundle's manifest (docs/proof-bundle.md): what was run, against what, with which verdicts and which
files — each file with its sha256, so that any change to the bundle after the run is detectable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

FORMAT = "dcc-recette/proof-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
UNHASHED = {MANIFEST, SIGNATURE}  # the manifest cannot hold its own hash; the signature covers the manifest
VERDICTS = ("conforme", "non conforme", "non applicable", "non évalué")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_files(bundle: Path) -> dict[str, str]:
    """Every file of the bundle but the manifest and its signature: relative POSIX path → sha256, sorted."""
    files = {}
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle).as_posix()
        if relative not in UNHASHED:
            files[relative] = sha256_file(path)
    return files


def dumps(manifest: dict[str, Any]) -> bytes:
    """Canonical bytes (sorted keys, two-space indent, UTF-8, final newline): what the signature covers."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
