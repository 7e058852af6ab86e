"""docs/trace-events.md lists every event type and field the rules read (the contract the DCC must honour)."""

from pathlib import Path

from rules.contract import markdown_table
from rules.loader import load_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "trace-events.md"


def test_the_catalogue_lists_what_the_rules_read():
    table = markdown_table(load_rules())
    assert table in DOC.read_text(encoding="utf-8"), "regenerate the table at the end of docs/trace-events.md"
    assert "`dmp.provide_and_register`" in table and "`confidentiality_codes`" in table
