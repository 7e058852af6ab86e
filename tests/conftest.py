"""Test-suite wide settings.

The two long files (the fault proof, which replays the recette once per named fault, and the reference recette,
one test per REM scenario) are collected first: with ``-n 2 --dist loadfile --no-loadscope-reorder`` (``make
test``) each starts at once on a worker of its own and every other file fills in around them, instead of one of
them starting last and the whole run waiting for it."""

from __future__ import annotations

import pytest

LONG_FIRST = (
    "tests/harness/run/test_fault_proof.py",
    "tests/scenarios/test_reference_recette.py",
)


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: every other file keeps its order
