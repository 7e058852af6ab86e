"""Patients, identity history and the hash-chained audit log, on SQLite and on PostgreSQL (DCC_DATABASE_URL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from dcc import audit
from dcc.db.models import AuditEntry, IdentityStatusChange, Patient
from dcc.identity.ins import InsError
from dcc.identity.status import IdentityRuleError, IdentityStatus
from dcc.services.patients import NoTrustClause, Traits, change_status, create_patient

pytestmark = pytest.mark.persistence
TRAITS = Traits("Martin", ("Jeanne", "Marie"), "F", "1979-03-12", "75056")


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(t))
        for t in (Patient, IdentityStatusChange, AuditEntry)
    )


def test_identity_lifecycle_is_historised_and_audited(session):
    patient = create_patient(
        session,
        TRAITS,
        author="810001234567",
        ins_matricule="279035121518989",
        ins_oid="1.2.250.1.213.1.4.10",
    )
    change_status(
        session,
        patient,
        IdentityStatus.VALIDEE,
        "810001234567",
        "pièce d'identité vue",
        justificatif="carte_identite",
    )
    change_status(session, patient, IdentityStatus.QUALIFIEE, "810001234567", "INSi 00")
    change_status(
        session, patient, IdentityStatus.PROVISOIRE, "system", "INSi 01 à la vérification", downgrade=True
    )
    session.commit()
    history = [(h.previous_status, h.new_status, h.author) for h in patient.history]
    assert history == [
        (None, "provisoire", "810001234567"),
        ("provisoire", "validee", "810001234567"),
        ("validee", "qualifiee", "810001234567"),
        ("qualifiee", "provisoire", "system"),
    ]
    assert patient.ins_matricule is None and patient.ins_oid is None  # invalidated by the downgrade
    assert audit.verify(session) == []
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries][-3:] == ["identity.status_changed"] * 3
    assert entries[-1].before["identity_status"] == "qualifiee" and entries[-1].after["ins_matricule"] is None


def test_refused_changes_write_nothing(session):
    patient = create_patient(session, TRAITS, author="u1")
    session.commit()
    before = counts(session)
    with pytest.raises(IdentityRuleError):
        change_status(session, patient, IdentityStatus.QUALIFIEE, "u1", "direct")
    with pytest.raises(IdentityRuleError, match="received by flow"):
        change_status(session, patient, IdentityStatus.VALIDEE, "u1", "x", justificatif="tiers_de_confiance")
    with pytest.raises(InsError, match="key"):
        create_patient(
            session, TRAITS, author="u1", ins_matricule="279035121518988", ins_oid="1.2.250.1.213.1.4.10"
        )
    with pytest.raises(NoTrustClause):
        change_status(
            session, patient, IdentityStatus.VALIDEE, "u1", "x", justificatif="passeport", trust_clause=False
        )
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        create_patient(session, Traits("X", ("Y",), "F", "12/03/1979"), author="u1")
    session.rollback()
    assert counts(session) == before and patient.identity_status == "provisoire"


def test_audit_chain_follows_savepoints_and_transactions(session):
    """The chain's tail is remembered for the transaction: an entry rolled back with its savepoint must not be
    chained to, one kept by a released savepoint must be, and the next transaction chains to the last commit."""
    patient = create_patient(session, TRAITS, author="u1")
    session.commit()
    first = session.scalar(select(func.max(AuditEntry.id)))

    def record(action):
        audit.record(session, "u1", action, "patient", str(patient.id), None, {"action": action})

    savepoint = session.begin_nested()
    record("test.discarded")
    savepoint.rollback()
    record("test.kept")
    with session.begin_nested():
        record("test.nested")
    record("test.after_release")
    session.commit()
    record("test.next_transaction")
    session.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.id >= first).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries[1:]] == [
        "test.kept",
        "test.nested",
        "test.after_release",
        "test.next_transaction",
    ]
    assert [e.previous_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_audit_tampering_and_deletion_are_detected(session):
    patient = create_patient(session, TRAITS, author="u1")
    change_status(session, patient, IdentityStatus.VALIDEE, "u1", "pièce", justificatif="passeport")
    session.commit()
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert audit.verify(session) == []
    target = entries[-1]
    session.execute(text("UPDATE audit_entry SET actor = 'intrus' WHERE id = :id"), {"id": target.id})
    session.commit()
    session.expire_all()
    assert audit.verify(session) == [f"audit entry {target.id}: content does not match its hash (modified)"]
    session.execute(text("UPDATE audit_entry SET actor = 'u1' WHERE id = :id"), {"id": target.id})
    session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": entries[-2].id})
    session.commit()
    session.expire_all()
    problems = audit.verify(session)
    assert problems and f"audit entry {target.id}: previous hash" in problems[0]
