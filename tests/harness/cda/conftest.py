"""One Validator for the whole session: the Saxon compile of the five profiles is done once (about 10 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cda import Validator


@pytest.fixture(scope="session")
def cda_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cda-cache")


@pytest.fixture(scope="session")
def validator(cda_cache_dir: Path) -> Validator:
    return Validator(cache_dir=cda_cache_dir)


@pytest.fixture(scope="session")
def examples(validator: Validator) -> Path:
    return validator.cisis.examples
