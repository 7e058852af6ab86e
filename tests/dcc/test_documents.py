"""FRCP and PPS lifecycle on the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dcc import audit, faults, rgpd
from dcc.db.models import Attachment, AuditEntry, Document, FieldEntry
from dcc.services.documents import (
    CLOTURE,
    COMPLETE,
    EN_COURS,
    VALIDE,
    DocumentRuleError,
    add_attachment,
    create_frcp,
    create_pps,
    enter,
    new_version,
    set_status,
)
from dcc.services.patients import Traits, create_patient

pytestmark = pytest.mark.persistence


@pytest.fixture
def patient(session):
    return create_patient(session, Traits("Martin", ("Jeanne",), "F", "1979-03-12"), author="u1")


def validated_frcp(session, patient):
    frcp = create_frcp(session, patient, "u1", {"motif": "RCP sein"})
    set_status(session, frcp, COMPLETE, "u1")
    return set_status(session, frcp, VALIDE, "u2")


def test_frcp_then_pps_then_new_version(session, patient):
    frcp = create_frcp(session, patient, "u1")
    with pytest.raises(DocumentRuleError) as refused:
        create_pps(session, frcp, "u1")
    assert refused.value.reason == "frcp_non_validee"
    set_status(session, frcp, COMPLETE, "u1")
    set_status(session, frcp, VALIDE, "u2")
    pps = create_pps(session, frcp, "u1")
    enter(session, pps, "traitements", "FOLFOX 6 cures", "810001234567")
    set_status(session, pps, COMPLETE, "u1")
    set_status(session, pps, VALIDE, "u1")
    with pytest.raises(DocumentRuleError, match="need a new version"):
        enter(session, pps, "traitements", "autre", "u1")
    v2 = new_version(session, pps, "u1")
    assert (v2.set_id, v2.version, v2.status, v2.replaces_id, v2.frcp_id) == (
        pps.set_id,
        2,
        EN_COURS,
        pps.id,
        frcp.id,
    )
    assert v2.content["traitements"] == "FOLFOX 6 cures"
    with pytest.raises(DocumentRuleError, match="not the latest"):
        new_version(session, pps, "u1")
    set_status(session, pps, CLOTURE, "u1")
    session.commit()
    assert session.scalars(select(FieldEntry.author)).all() == ["810001234567"]
    assert audit.verify(session) == []


def test_rgpd_texts_default_and_adapted(session, patient):
    assert create_frcp(session, patient, "u1").rgpd_text_1 == rgpd.TEXT_1_DEFAULT
    adapted = create_frcp(session, patient, "u1", establishment_text_1="Texte de l'établissement A.")
    assert adapted.rgpd_text_1 == "Texte de l'établissement A."
    assert rgpd.texts("Texte A.")[1] == rgpd.TEXT_2 and "lesdonnees.e-cancer.fr" in rgpd.TEXT_2


def test_attachments_are_checked_and_a_refusal_changes_nothing(session, patient):
    frcp = create_frcp(session, patient, "u1")
    add_attachment(session, frcp, "Effets secondaires", "application/pdf", b"%PDF-1.4 ...", "u1")
    session.commit()
    before = (
        session.scalar(select(func.count()).select_from(Attachment)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )
    with pytest.raises(DocumentRuleError, match="not accepted"):
        add_attachment(session, frcp, "virus.exe", "application/x-msdownload", b"MZ", "u1")
    with pytest.raises(DocumentRuleError, match="more than 10"):
        add_attachment(session, frcp, "gros.pdf", "application/pdf", b"x" * 11, "u1", max_bytes=10)
    session.rollback()
    assert (
        session.scalar(select(func.count()).select_from(Attachment)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    ) == before


@pytest.mark.parametrize("value", ["avant\x00après", "bip\x07", "\ufffe"])
def test_a_value_no_cda_could_carry_is_refused_and_changes_nothing(session, patient, value):
    """Untrusted input: a character XML 1.0 forbids (NUL also breaks PostgreSQL text) is refused with its position,
    before anything is stored."""
    frcp = create_frcp(session, patient, "u1", {"motif": "RCP sein"})
    session.commit()
    entries = session.scalar(select(func.count()).select_from(FieldEntry))
    with pytest.raises(DocumentRuleError) as refused:
        enter(session, frcp, "note", value, "u1")
    assert refused.value.reason == "invalid_value" and "U+" in str(refused.value)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FieldEntry)) == entries
    assert "note" not in session.get(Document, frcp.id).content


def test_fault_attachment_checked_after_storing(session, patient):
    frcp = create_frcp(session, patient, "u1")
    session.commit()
    with faults.enabled("attachment_checked_after_storing"):
        with pytest.raises(DocumentRuleError, match="not accepted"):
            add_attachment(session, frcp, "virus.exe", "application/x-msdownload", b"MZ-fault", "u1")
    session.rollback()  # what a refusal does: too late, the file was committed before the check
    titles = session.scalars(select(Attachment.title).where(Attachment.document_id == frcp.id)).all()
    assert titles == ["virus.exe"]


def test_fault_corrected_frcp_cannot_be_validated(session, patient):
    first = validated_frcp(session, patient)
    correction = new_version(session, first, "u1")
    set_status(session, correction, COMPLETE, "u1")
    with faults.enabled("corrected_frcp_cannot_be_validated"):
        with pytest.raises(DocumentRuleError, match="already has a validated version"):
            set_status(session, correction, VALIDE, "u2")
        fresh = create_frcp(session, patient, "u1", {"motif": "autre RCP"})  # a first version still validates
        set_status(session, fresh, COMPLETE, "u1")
        assert set_status(session, fresh, VALIDE, "u2").status == VALIDE
    assert set_status(session, correction, VALIDE, "u2").status == VALIDE


OPERATIONS = st.lists(
    st.sampled_from(["complete", "valide", "cloture", "en_cours", "enter", "version"]), max_size=12
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["FRCP", "PPS"]), operations=OPERATIONS)
def test_a_document_never_leaves_valide_except_by_a_new_version(session, kind, operations):
    patient = create_patient(session, Traits("Durand", ("Paul",), "M", "1960-01-01"), author="u1")
    document = (
        create_frcp(session, patient, "u1")
        if kind == "FRCP"
        else create_pps(session, validated_frcp(session, patient), "u1")
    )
    for operation in operations:
        was = document.status
        try:
            if operation == "enter":
                enter(session, document, "x", "y", "u1")
            elif operation == "version":
                document = new_version(session, document, "u1")
                assert document.status == EN_COURS
                continue
            else:
                set_status(session, document, operation, "u1")
        except DocumentRuleError:
            assert document.status == was
            continue
        if was == VALIDE:
            assert kind == "PPS" and document.status == CLOTURE
        assert document.status in (EN_COURS, COMPLETE, VALIDE, CLOTURE)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Document).where(Document.kind == "UNKNOWN")) == 0
