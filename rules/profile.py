"""The run profile: what the editor's DCC is (ES or libéral users, optional functions, regional INS policy). SI
clauses of the REM are read against it to decide ``non applicable`` before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEFAULT_PROFILE_PATH = Path(__file__).resolve().parent / "profiles" / "default.yaml"


class ProfileError(ValueError):
    pass


def load_profile(path: str | Path | None = None) -> dict[str, Any]:
    path = Path(path) if path else DEFAULT_PROFILE_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProfileError(f"{path}: cannot read the profile ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("profile"), dict):
        raise ProfileError(f"{path}: expected a top-level 'profile:' mapping")
    return data["profile"]
