"""The design card's one-way imports hold for the whole tree (a violation names file and line)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_imports.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_imports_flow_one_way():
    assert _checker().violations() == []


def test_checker_catches_a_forbidden_import(tmp_path, monkeypatch):
    checker = _checker()
    (tmp_path / "dcc").mkdir()
    (tmp_path / "dcc" / "bad.py").write_text("from harness.cli import main\n")
    monkeypatch.setattr(checker, "ROOT", tmp_path)
    assert checker.violations() == ["dcc/bad.py:1: dcc must not import harness"]
