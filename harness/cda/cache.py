"""On-disk cache of generated XSLT, keyed by the sha256 of every schematron file read plus the compiler version.

An index per (schematron, phase) lists the files the last compilation read and their hashes, so a lookup only
re-hashes those files (no parsing); any change to any included file, or to the compiler, misses. Writes go to a
temporary file then ``os.replace`` so concurrent workers never read half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from platformdirs import user_cache_dir

from harness.cda.schematron import COMPILER_VERSION, CompiledSchematron, compile_schematron


def default_cache_dir() -> Path:
    return Path(os.environ.get("DCC_CDA_CACHE_DIR") or user_cache_dir("dcc-recette")) / "cda-schematron"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _key(files: dict[str, str], phase: str | None) -> str:
    digest = hashlib.sha256(f"compiler={COMPILER_VERSION}\nphase={phase}\n".encode())
    for name in sorted(files):
        digest.update(f"{name}={files[name]}\n".encode())
    return digest.hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SchematronCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_cache_dir()
        self.generated = 0  # how many times this instance had to run the compiler (tests read it)

    def _index_path(self, schematron: Path, phase: str | None) -> Path:
        name = hashlib.sha256(f"{schematron.resolve()}|{phase}".encode()).hexdigest()[:32]
        return self.directory / "index" / f"{name}.json"

    def xslt_path(self, key: str) -> Path:
        return self.directory / f"{key}.xsl"

    def lookup(self, schematron: Path, phase: str | None = None) -> tuple[str, str] | None:
        try:
            index = json.loads(self._index_path(schematron, phase).read_text(encoding="utf-8"))
            files = {name: _sha256(Path(name)) for name in index["files"]}
        except (OSError, ValueError, KeyError):
            return None
        if files != index["files"]:
            return None
        key = _key(files, phase)
        try:
            return key, self.xslt_path(key).read_text(encoding="utf-8")
        except OSError:
            return None

    def get(self, schematron: Path, phase: str | None = None) -> tuple[str, str]:
        """Return ``(key, xslt text)``, generating and storing it when absent or stale."""
        hit = self.lookup(schematron, phase)
        if hit is not None:
            return hit
        compiled: CompiledSchematron = compile_schematron(schematron, phase)
        self.generated += 1
        files = {str(path): _sha256(path) for path in compiled.files}
        key = _key(files, phase)
        try:
            _atomic_write(self.xslt_path(key), compiled.xslt)
            _atomic_write(
                self._index_path(schematron, phase),
                json.dumps(
                    {
                        "schematron": str(schematron.resolve()),
                        "phase": phase,
                        "key": key,
                        "compiler": COMPILER_VERSION,
                        "files": files,
                    },
                    sort_keys=True,
                    indent=1,
                ),
            )
        except OSError:
            pass  # a read-only cache only costs the regeneration next time; validation goes on
        return key, compiled.xslt
