"""docs/test-driver.md documents every path of the test-driver API the harness uses and the reference serves."""

from pathlib import Path

from dcc.api.app import create_app
from harness.targets.http import ROUTES

DOC = Path(__file__).resolve().parents[3] / "docs" / "test-driver.md"


def test_every_driver_path_is_documented_and_served(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    served = set(create_app(f"sqlite:///{tmp_path / 'd.sqlite3'}").openapi()["paths"])
    for method, path, _ in ROUTES.values():
        assert f"`{method} {path}`" in text, path
        assert path in served, path
    assert "/driver/events" in served and "`GET /driver/events" in text
