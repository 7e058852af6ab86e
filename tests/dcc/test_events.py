"""The event journal: written with the change it reports, exported in the trace envelope, lost with a rollback."""

import pytest

from dcc import events
from dcc.services import documents, patients
from dcc.services.patients import Traits

pytestmark = pytest.mark.persistence

TRAITS = Traits("DUPONT", ("JEAN",), "M", "1960-02-03")


def test_lifecycle_events_carry_the_catalogue_fields(session):
    after = max((e["seq"] for e in events.export(session)), default=0)
    patient = patients.create_patient(session, TRAITS, "op1")
    frcp = documents.create_frcp(session, patient, "op1")
    documents.enter(session, frcp, "motif", "avis", "op1")
    documents.set_status(session, frcp, documents.COMPLETE, "op1")
    exported = list(events.export(session, after=after))
    types = [e["type"] for e in exported]
    assert types.count("audit.recorded") == 4
    assert [t for t in types if t != "audit.recorded"] == [
        "patient.created",
        "document.created",
        "document.field_entered",
        "document.content_modified",  # what DOC.03 and ECH.02 watch
        "document.status_changed",
    ]
    changed = exported[-1] if exported[-1]["type"] == "document.status_changed" else exported[-2]
    assert changed["source"] == "dcc" and changed["seq"] > after
    data = changed["data"]
    assert (data["from"], data["to"], data["kind"], data["version"]) == ("en_cours", "complete", "FRCP", 1)
    assert data["identity_status"] == "provisoire" and "ins" not in data
    audit_of_entry = [
        e
        for e in exported
        if e["type"] == "audit.recorded" and e["data"]["action"] == "document.field_entered"
    ]
    assert audit_of_entry[0]["data"]["entity_id"] == data["document_id"]
    seqs = [e["seq"] for e in exported]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_a_refused_change_leaves_no_event(session):
    patient = patients.create_patient(session, TRAITS, "op1")
    frcp = documents.create_frcp(session, patient, "op1")
    session.commit()
    last = max(e["seq"] for e in events.export(session))
    with pytest.raises(documents.DocumentRuleError):
        documents.set_status(session, frcp, documents.VALIDE, "op1")
    session.rollback()
    assert list(events.export(session, after=last)) == []
