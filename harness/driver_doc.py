"""The generated table of docs/test-driver.md: every test-driver operation beyond the core ones, from the reference
DCC's OpenAPI document (operationId, method and path, summary, body fields). Regenerate with
``python -m harness.driver_doc``; tests/harness/run/test_driver_doc.py fails when the page is out of date."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.targets.http import CORE, routes_from_openapi

DOC = Path(__file__).resolve().parent.parent / "docs" / "test-driver.md"
MARKER = "<!-- generated: area operations -->"


def table(openapi: dict[str, Any]) -> str:
    rows = ["| operationId | method and path | what it does |", "|---|---|---|"]
    for name, (method, path, _params) in sorted(routes_from_openapi(openapi).items()):
        if name in CORE or name in ("accept_cgu", "add_attachment", "export_audit"):
            continue
        summary = openapi["paths"][path][method.lower()].get("summary", "")
        rows.append(f"| `{name}` | `{method} {path}` | {summary} |")
    return "\n".join(rows) + "\n"


def reference_openapi() -> dict[str, Any]:
    from dcc.api.app import create_app

    with tempfile.TemporaryDirectory() as directory:
        app = create_app(f"sqlite:///{Path(directory) / 'doc.sqlite3'}", test_driver=True)
        document = app.openapi()
        app.state.engine.dispose()
        return document


def rendered(openapi: dict[str, Any]) -> str:
    text = DOC.read_text(encoding="utf-8")
    head = text.split(MARKER)[0]
    return head + MARKER + "\n\n" + table(openapi)


if __name__ == "__main__":
    DOC.write_text(rendered(reference_openapi()), encoding="utf-8")
    sys.exit(0)
