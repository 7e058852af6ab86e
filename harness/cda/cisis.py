"""Where the ANS CI-SIS artifacts are: ``--cisis-dir``, then ``DCC_CISIS_DIR``, then ``<repo>/../shared/ci-sis``.

They are never copied into the repository (ANS licence and size); a missing folder is a clear usage error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class CisisNotFound(Exception):
    """The CI-SIS folder is missing or does not have the testContenuCDA layout."""


@dataclass(frozen=True)
class CisisDir:
    root: Path  # the folder holding testcontenucda/

    @property
    def base(self) -> Path:
        return self.root / "testcontenucda"

    @property
    def schematrons(self) -> Path:
        return self.base / "schematrons"

    @property
    def xsd(self) -> Path:
        return self.base / "infrastructure" / "cda" / "CDA_extended.xsd"

    @property
    def examples(self) -> Path:
        return self.base / "ExemplesCDA"


def find_cisis_dir(explicit: str | os.PathLike | None = None) -> CisisDir:
    candidates: list[tuple[str, Path]] = []
    if explicit:
        candidates.append(("--cisis-dir", Path(explicit)))
    elif os.environ.get("DCC_CISIS_DIR"):
        candidates.append(("DCC_CISIS_DIR", Path(os.environ["DCC_CISIS_DIR"])))
    else:
        candidates.append(("default", REPO_ROOT.parent / "shared" / "ci-sis"))
    source, path = candidates[0]
    path = path.expanduser()
    # accept either the ci-sis folder or its testcontenucda/ child
    if (path / "schematrons").is_dir() and path.name == "testcontenucda":
        path = path.parent
    cisis = CisisDir(path.resolve())
    if not cisis.xsd.is_file() or not cisis.schematrons.is_dir():
        raise CisisNotFound(
            f"CI-SIS artifacts not found at {path} ({source}): expected testcontenucda/schematrons/ and "
            "testcontenucda/infrastructure/cda/CDA_extended.xsd; set --cisis-dir or DCC_CISIS_DIR"
        )
    return cisis
