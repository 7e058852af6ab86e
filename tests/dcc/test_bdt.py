"""Therapeutic data bank: entries set up by users, favourites listed first for their user only, values entered in
an FRCP from the bank with the entry traced (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from dcc import events, faults
from dcc.db.models import FieldEntry
from dcc.services import bdt
from dcc.services.documents import create_frcp
from dcc.services.patients import Traits, create_patient

pytestmark = pytest.mark.persistence


def journal(session, type_: str) -> list[dict]:
    return [e["data"] for e in events.export(session) if e["type"] == type_]


@pytest.fixture
def bank(session):
    return {
        label: bdt.create_entry(session, kind, label, "admin", code=code)
        for kind, label, code in [
            ("protocole", "FOLFOX 6", "FOLFOX6"),
            ("protocole", "AC 60", None),
            ("molecule", "Oxaliplatine", "L01XA03"),
            ("protocole", "Zoladex", None),
        ]
    }


def test_entries_are_created_audited_and_refused_when_invalid(session, bank):
    created = journal(session, "bdt.entry_created")
    assert [c["label"] for c in created[-4:]] == ["FOLFOX 6", "AC 60", "Oxaliplatine", "Zoladex"]
    assert created[-4]["entry_id"] == str(bank["FOLFOX 6"].id)
    for kwargs, reason in [
        ({"kind": "protocole", "label": "FOLFOX 6"}, "duplicate_entry"),
        ({"kind": "chimio", "label": "X"}, "unknown_kind"),
        ({"kind": "protocole", "label": "  "}, "missing_field"),
        ({"kind": "protocole", "label": "x" * 201}, "too_long"),
    ]:
        with pytest.raises(bdt.BdtError) as refused:
            bdt.create_entry(session, author="u1", **kwargs)
        assert refused.value.reason == reason
    bdt.update_entry(session, bank["AC 60"], "admin", code="AC60", details="4 cures")
    assert journal(session, "bdt.entry_updated")[-1]["fields"] == ["code", "details"]


def test_favourites_come_first_for_their_user_only(session, bank):
    zoladex = bank["Zoladex"]
    bdt.add_favorite(session, "u1", zoladex)
    bdt.add_favorite(session, "u1", zoladex)  # idempotent
    mine = bdt.list_entries(session, "u1", kind="protocole")
    theirs = bdt.list_entries(session, "u2", kind="protocole")
    assert [(e.entry.label, e.favorite) for e in mine] == [
        ("Zoladex", True),
        ("AC 60", False),
        ("FOLFOX 6", False),
    ]
    assert [(e.entry.label, e.favorite) for e in theirs] == [
        ("AC 60", False),
        ("FOLFOX 6", False),
        ("Zoladex", False),
    ]
    shown = journal(session, "bdt.list_shown")[-2:]
    assert [(s["user_id"], s["first_entry_id"], s["favorite_of_other_user"]) for s in shown] == [
        ("u1", str(zoladex.id), False),
        ("u2", str(bank["AC 60"].id), False),
    ]
    assert journal(session, "bdt.favorite_added")[-1] == {"user_id": "u1", "entry_id": str(zoladex.id)}
    assert bdt.remove_favorite(session, "u1", zoladex) is True
    assert bdt.list_entries(session, "u1", kind="protocole")[0].entry.label == "AC 60"
    assert [e.entry.label for e in bdt.list_entries(session, "u1", query="l01")] == ["Oxaliplatine"]


def test_fault_favourites_shared_between_users(session, bank):
    bdt.add_favorite(session, "u1", bank["Zoladex"])
    with faults.enabled("favourites_shared_between_users"):
        theirs = bdt.list_entries(session, "u2", kind="protocole")
    assert theirs[0].entry.label == "Zoladex" and theirs[0].favorite
    assert journal(session, "bdt.list_shown")[-1]["favorite_of_other_user"] is True


def test_proposition_therapeutique_entered_from_the_bank(session, bank):
    patient = create_patient(session, Traits("Martin", ("Jeanne",), "F", "1979-03-12"), author="u1")
    frcp = create_frcp(session, patient, "u1")
    entry = bdt.enter_from_bank(session, frcp, "proposition_therapeutique", bank["FOLFOX 6"], "u1")
    assert isinstance(entry, FieldEntry) and entry.value == "FOLFOX 6 (FOLFOX6)"
    assert frcp.content["proposition_therapeutique"] == "FOLFOX 6 (FOLFOX6)"
    entered = journal(session, "document.field_entered")[-1]
    assert (entered["field"], entered["bdt_entry_id"]) == (
        "proposition_therapeutique",
        str(bank["FOLFOX 6"].id),
    )
    bdt.update_entry(session, bank["AC 60"], "admin", active=False)
    with pytest.raises(bdt.BdtError) as refused:
        bdt.enter_from_bank(session, frcp, "proposition_therapeutique", bank["AC 60"], "u1")
    assert refused.value.reason == "inactive_entry"
    with faults.enabled("bdt_entry_not_linked"):
        bdt.enter_from_bank(session, frcp, "proposition_therapeutique", bank["Zoladex"], "u1")
    assert "bdt_entry_id" not in journal(session, "document.field_entered")[-1]
