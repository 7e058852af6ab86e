"""Integrity of a proof bundle: the manifest is readable and of a format we know, its signature verifies, and the
files on disk are exactly the files it lists, byte for byte.

Everything here treats the bundle as hostile: manifest paths are checked (``..``, absolute, drive letters, NUL,
backslashes) before anything is opened, and the directory is walked without following symbolic links — a link is a
finding, never a way out of the bundle. Files are enumerated from the disk, never from the manifest.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from proofs import manifest as mf
from proofs import signing
from proofs.findings import Check, Status, Verification

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_MANIFEST_BYTES = 64 * 1024 * 1024

# key -> expected JSON type; a key missing or of another type makes the manifest unusable for that check only
SCHEMA: dict[str, type | tuple[type, ...]] = {
    "harness": dict,
    "rem": dict,
    "rule_files": dict,
    "profile": dict,
    "target": dict,
    "started": str,
    "finished": str,
    "scenarios": dict,
    "results": list,
    "requirements": dict,
    "summary": dict,
    "files": dict,
}


class BundleError(Exception):
    """Not something ``verify`` can judge (not a directory, no manifest, a format it does not read): exit 2."""


class ManifestGarbled(ValueError):
    """A manifest.json that is not a JSON object: the bundle is there but unusable (a finding, exit 1)."""


@dataclass
class OpenedManifest:
    data: bytes
    document: dict[str, Any]


def unsafe_path(path: str) -> str | None:
    """Why a bundle-relative path from the manifest must not be followed, or None when it is a plain one."""
    if not isinstance(path, str) or not path:
        return "empty or not a string"
    if "\x00" in path:
        return "contains a NUL byte"
    if "\\" in path:
        return "contains a backslash"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "absolute path"
    parts = PurePosixPath(path).parts
    if ".." in parts or "." in parts or path.endswith("/") or "//" in path:
        return "path traversal or non-canonical path"
    return None


def open_manifest(bundle: Path) -> OpenedManifest:
    """Reads ``manifest.json``; what makes the directory no bundle at all raises BundleError."""
    if not bundle.exists():
        raise BundleError(f"{bundle}: no such directory")
    if not bundle.is_dir():
        raise BundleError(
            f"{bundle}: not a directory (a proof bundle is the directory `dcc-recette run --out` wrote)"
        )
    path = bundle / mf.MANIFEST
    if path.is_symlink():
        raise ManifestGarbled(f"{mf.MANIFEST} is a symbolic link (not followed)")
    if not path.is_file():
        if (bundle / "trace.jsonl").exists():
            raise BundleError(
                f"{bundle}: no {mf.MANIFEST} although there is a trace: the run was interrupted "
                "(the manifest is written last), so there is nothing to verify"
            )
        raise BundleError(f"{bundle}: not a proof bundle (no {mf.MANIFEST})")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes, not a manifest")
    data = path.read_bytes()
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestGarbled(f"{mf.MANIFEST}: not UTF-8 JSON ({error})") from None
    if not isinstance(document, dict):
        raise ManifestGarbled(f"{mf.MANIFEST}: the top level is not a JSON object")
    fmt, version = document.get("format"), document.get("format_version")
    if fmt != mf.FORMAT:
        raise BundleError(f"{path}: format {fmt!r}, not {mf.FORMAT!r}: not a dcc-recette proof bundle")
    if not isinstance(version, int) or isinstance(version, bool) or version != mf.FORMAT_VERSION:
        raise BundleError(
            f"{path}: format_version {version!r}; this dcc-recette reads format_version {mf.FORMAT_VERSION} "
            "(verify it with the dcc-recette version that wrote it, or a newer one)"
        )
    if document.get("hash_algorithm") != "sha256":
        raise BundleError(f"{path}: hash_algorithm {document.get('hash_algorithm')!r}; only sha256 is known")
    return OpenedManifest(data, document)


def check_structure(document: dict[str, Any], out: Verification) -> dict[str, Any]:
    """The manifest with every key of the wrong type dropped (each one a finding), ready for the other checks."""
    clean: dict[str, Any] = {}
    for key, kind in SCHEMA.items():
        value = document.get(key)
        if value is None:
            out.add(Check.MANIFEST, Status.A_CORRIGER, f"key {key!r} missing from {mf.MANIFEST}")
        elif not isinstance(value, kind):
            out.add(
                Check.MANIFEST, Status.A_CORRIGER, f"key {key!r} of {mf.MANIFEST} is not a {kind.__name__}"
            )
        else:
            clean[key] = value
    if "files" in clean:
        good_files = {}
        for path, digest in clean["files"].items():
            if not isinstance(digest, str) or not _HEX64.match(digest):
                out.add(Check.MANIFEST, Status.A_CORRIGER, f"files[{path!r}] is not a sha256", file=str(path))
            else:
                good_files[path] = digest
        clean["files"] = good_files
    results = []
    for index, result in enumerate(clean.get("results", [])):
        if (
            isinstance(result, dict)
            and isinstance(result.get("requirement"), str)
            and isinstance(result.get("scenario"), str)
            and result.get("verdict") in mf.VERDICTS
        ):
            results.append(_normalised(result, index, out))
        else:
            out.add(
                Check.MANIFEST,
                Status.A_CORRIGER,
                f"results[{index}] is not a result object (requirement, scenario, verdict in {', '.join(mf.VERDICTS)})",
            )
    clean["results"] = results
    for key in ("scenarios", "requirements"):
        if key in clean:
            clean[key] = {
                k: v for k, v in clean[key].items() if isinstance(v, dict if key == "scenarios" else str)
            }
            if len(clean[key]) != len(document[key]):
                out.add(Check.MANIFEST, Status.A_CORRIGER, f"entries of {key!r} of the wrong type (ignored)")
    return clean


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _normalised(result: dict[str, Any], index: int, out: Verification) -> dict[str, Any]:
    """A copy of a result whose optional fields have the types the format says; each one that has not is a
    finding and is replaced by an empty value, so the later checks never trip on an editor's JSON."""
    clean = dict(result)
    wrong = []
    for key in ("reasons", "proofs", "events"):
        if key in clean and not _strings(clean[key]):
            wrong.append(key)
            clean[key] = []
    execution = clean.get("execution")
    if execution is not None and not isinstance(execution, dict):
        wrong.append("execution")
        clean["execution"] = {"status": None, "message": str(execution)}
    expected = clean.get("expected_proofs", [])
    if not isinstance(expected, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) and _strings(p.get("delivered", []))
        for p in expected
    ):
        wrong.append("expected_proofs")
        clean["expected_proofs"] = []
    if clean.get("rule_file") is not None and not isinstance(clean["rule_file"], str):
        wrong.append("rule_file")
        clean["rule_file"] = None
    if wrong:
        out.add(
            Check.MANIFEST,
            Status.A_CORRIGER,
            f"results[{index}] ({clean['scenario']}): {', '.join(wrong)} not of the format's type",
            requirement=clean["requirement"],
        )
    return clean


def check_signature(bundle: Path, manifest: bytes, pubkey: Path | None, out: Verification) -> str:
    """The signature's state for the report: verified, invalid, absent, unchecked (no key given)."""
    path = bundle / mf.SIGNATURE
    present = path.is_file() and not path.is_symlink()
    if pubkey is None:
        if present:
            out.notes.append(
                f"{mf.SIGNATURE} present but not checked: give the editor's public key with --pubkey to check it"
            )
            return "présente, non vérifiée (pas de --pubkey)"
        out.notes.append("bundle not signed: nothing proves who produced it (run with --sign KEY)")
        return "absente"
    key = signing.load_public(pubkey)  # SigningError: the CLI makes it a usage error
    if not present:
        out.add(
            Check.SIGNATURE,
            Status.A_CORRIGER,
            f"a public key was given but the bundle has no {mf.SIGNATURE}: it is not signed",
            file=mf.SIGNATURE,
        )
        return "absente (clé fournie)"
    if signing.verify(manifest, path.read_bytes()[:4096], key):
        return f"vérifiée ({pubkey.name})"
    out.add(
        Check.SIGNATURE,
        Status.A_CORRIGER,
        f"the signature does not verify with {pubkey.name}: the manifest was changed after signing, "
        "or signed with another key",
        file=mf.SIGNATURE,
    )
    return "invalide"


def walk(bundle: Path) -> tuple[dict[str, Path], list[str]]:
    """Regular files of the bundle (relative POSIX path → path) and the symbolic links met (never followed)."""
    files: dict[str, Path] = {}
    links: list[str] = []
    for root, dirs, names in os.walk(bundle, followlinks=False):
        base = Path(root)
        for name in list(dirs):
            if (base / name).is_symlink():
                links.append((base / name).relative_to(bundle).as_posix())
                dirs.remove(name)
        for name in names:
            path = base / name
            relative = path.relative_to(bundle).as_posix()
            if path.is_symlink():
                links.append(relative)
            elif path.is_file():
                files[relative] = path
    return dict(sorted(files.items())), sorted(links)


def check_files(
    bundle: Path,
    listed: dict[str, str],
    out: Verification,
    owners: Callable[[str], set[str]],
    manual_folders: dict[str, str] | None = None,
) -> tuple[dict[str, Path], set[str], dict[str, list[str]]]:
    """Compares the disk with ``listed`` (the manifest's files). Returns the files on disk, the set of paths
    whose content cannot be trusted (modified, missing, unsafe, added), which later checks must not rely on, and
    the manual proofs added after the run.

    A proof only a person can give (a manual rule's) is added to the bundle by the editor after the run
    (docs/user-guide.md): a file under ``artifacts/<proof id>/`` of such a proof is not an alteration but a manual
    proof, covered by neither the manifest nor its signature — reported as such for the reviewer to examine."""
    on_disk, links = walk(bundle)
    doubtful: set[str] = set()

    def finding(status: Status, message: str, path: str) -> None:
        """Evidence of requirements missing or altered: their tests are to replay. Any other file of the bundle
        (the book, the reports): the dossier is to correct."""
        who = sorted(owners(path))
        for requirement in who or [None]:
            out.add(
                Check.INTEGRITY,
                status if who else Status.A_CORRIGER,
                message,
                requirement=requirement,
                file=path,
            )

    for path in links:
        finding(Status.A_CORRIGER, "symbolic link in the bundle (not followed)", path)
        doubtful.add(path)
    for path, digest in listed.items():
        reason = unsafe_path(path)
        if reason:
            out.add(
                Check.INTEGRITY,
                Status.A_CORRIGER,
                f"unsafe path in the manifest ({reason}): not followed",
                file=repr(path),
            )
            doubtful.add(path)
            continue
        if path in mf.UNHASHED:
            out.add(Check.INTEGRITY, Status.A_CORRIGER, "the manifest lists a file it cannot hash", file=path)
            continue
        if path not in on_disk:
            finding(Status.A_REJOUER, "listed in the manifest but missing from the bundle", path)
            doubtful.add(path)
            continue
        actual = mf.sha256_file(on_disk[path])
        if actual != digest:
            finding(
                Status.A_REJOUER,
                f"modified after the run (sha256 {actual[:12]}…, the manifest says {digest[:12]}…)",
                path,
            )
            doubtful.add(path)
    manual: dict[str, list[str]] = {}
    for path in on_disk:
        if path not in listed and path not in mf.UNHASHED:
            parts = path.split("/")
            proof = (
                (manual_folders or {}).get(parts[1]) if len(parts) > 2 and parts[0] == "artifacts" else None
            )
            if proof is not None:
                manual.setdefault(proof, []).append(path)
                continue
            finding(Status.A_CORRIGER, "not listed in the manifest: added after the run", path)
            doubtful.add(path)
    for proof, paths in manual.items():
        out.notes.append(
            f"manual proof {proof} added after the run (in neither the manifest nor its signature), to examine: "
            + ", ".join(paths)
        )
    return on_disk, doubtful, manual
