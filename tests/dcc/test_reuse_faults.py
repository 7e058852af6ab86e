"""Each fault of data reuse and of the document lifecycle (those this area added; the lifecycle's own —
``frcp_reopened_after_validation``, ``pps_closed_before_validation``, ``status_change_not_audited`` — are tested
with it) changes the behaviour its REM requirement checks: the
same steps, with and without the fault, give different events (what the rules read)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dcc import faults, identifiers
from dcc.db.models import DccEvent
from dcc.services import commands, reuse
from dcc.services.documents import (
    COMPLETE,
    EN_COURS,
    VALIDE,
    DocumentRuleError,
    create_frcp,
    create_pps,
    enter,
    set_status,
)
from dcc.services.patients import Traits, create_patient

pytestmark = pytest.mark.persistence

MINE = {
    "prefill_ignores_latest_pps": ["REPR.01", "REPR.04"],
    "prefill_ignores_previous_frcp": ["REPR.02"],
    "crgm_conclusion_not_proposed": ["REPR.03"],
    "pps_prefill_missing": ["REPR.05"],
    "synthesis_includes_future_items": ["REPR.06"],
    "actualised_pps_drops_realised_care": ["REPR.07"],
    "validated_document_editable": ["DOC.03"],
    "pps_from_unvalidated_frcp": ["DOC.05"],
    "field_entry_without_author": ["DOC.07"],
    "transition_refusal_not_recorded": ["DOC.01", "DOC.02"],
}


@pytest.fixture
def patient(session):
    return create_patient(session, Traits("Faute", ("Paul",), "M", "1955-12-01"), author="u1")


def validate(session, document):
    set_status(session, document, COMPLETE, "u1")
    return set_status(session, document, VALIDE, "u1")


def journal(session, type_, document=None):
    rows = session.scalars(select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id))
    wanted = identifiers.document_id(document) if document is not None else None
    return [e.data for e in rows if wanted is None or e.data.get("document_id") == wanted]


def test_catalogue_names_the_requirements():
    for name, breaks in MINE.items():
        assert list(faults.CATALOGUE[name].breaks) == breaks


def _two_pps(session, patient):
    frcp = validate(session, reuse.new_frcp(session, patient, "u1").document)
    older = reuse.new_pps(session, frcp, "u1", {"traitements": "chirurgie"}).document
    validate(session, older)
    latest = reuse.new_pps(session, frcp, "u1", {"traitements": "FOLFOX"}).document
    validate(session, latest)
    return older, latest


def _pps_offered(session, patient):
    proposal = reuse.new_frcp(session, patient, "u1")
    created = journal(session, "document.created", proposal.document)[0]
    offered = [
        p["from_document_id"]
        for p in journal(session, "document.prefill_proposed", proposal.document)
        if p["from_kind"] == "PPS"
    ]
    return created["latest_pps_id"], offered


def test_prefill_ignores_latest_pps(session, patient):
    older, latest = _two_pps(session, patient)
    assert _pps_offered(session, patient) == (
        identifiers.document_id(latest),
        [identifiers.document_id(latest)],
    )
    with faults.enabled("prefill_ignores_latest_pps"):
        assert _pps_offered(session, patient) == (
            identifiers.document_id(latest),
            [identifiers.document_id(older)],
        )


def test_prefill_ignores_previous_frcp(session, patient):
    validate(session, reuse.new_frcp(session, patient, "u1", {"antecedents": "HTA"}).document)

    def kinds():
        document = reuse.new_frcp(session, patient, "u1").document
        return [p["from_kind"] for p in journal(session, "document.prefill_proposed", document)]

    assert kinds() == ["FRCP"]
    with faults.enabled("prefill_ignores_previous_frcp"):
        assert kinds() == []


def test_crgm_conclusion_not_proposed(session, patient):
    crgm = "/work/shared/ci-sis/testcontenucda/ExemplesCDA/CANCER-CR-GM_2022.01_AnalyseRealisee.xml"
    reuse.integrate_crgm(session, patient, open(crgm, "rb").read(), "u1")
    assert [i.from_kind for i in reuse.new_frcp(session, patient, "u1").items] == ["CR-GM"]
    with faults.enabled("crgm_conclusion_not_proposed"):
        proposal = reuse.new_frcp(session, patient, "u1")
        assert proposal.items == () and journal(session, "document.prefill_proposed", proposal.document) == []
        assert "crgm_id" in journal(session, "document.created", proposal.document)[0]


def test_pps_prefill_missing(session, patient):
    frcp = validate(
        session, reuse.new_frcp(session, patient, "u1", {"proposition_therapeutique": "RT"}).document
    )
    assert [
        p["from_kind"]
        for p in journal(session, "document.prefill_proposed", reuse.new_pps(session, frcp, "u1").document)
    ] == ["FRCP"]
    with faults.enabled("pps_prefill_missing"):
        assert (
            journal(session, "document.prefill_proposed", reuse.new_pps(session, frcp, "u1").document) == []
        )


def test_synthesis_includes_future_items(session, patient):
    frcp = validate(session, reuse.new_frcp(session, patient, "u1").document)
    pps = reuse.new_pps(session, frcp, "u1").document
    pps.content = {
        "soins_prevus": [{"categorie": "traitement", "libelle": "C6", "date": "2030-01-01", "confirme": True}]
    }
    assert reuse.build_syntheses(session, pps, date(2025, 1, 1)).future_items == 0
    with faults.enabled("synthesis_includes_future_items"):
        built = reuse.build_syntheses(session, pps, date(2025, 1, 1))
        assert built.future_items == 1 and [i.libelle for i in built.treatments] == ["C6"]


def test_actualised_pps_drops_realised_care(session, patient):
    frcp = validate(session, reuse.new_frcp(session, patient, "u1").document)
    pps = validate(session, reuse.new_pps(session, frcp, "u1").document)
    assert journal(session, "document.prefill_proposed", reuse.new_version(session, pps, "u1").document)[0][
        "fields"
    ] == ["soins_realises"]
    pps2 = reuse.new_pps(session, frcp, "u1").document
    validate(session, pps2)
    with faults.enabled("actualised_pps_drops_realised_care"):
        proposed = journal(
            session, "document.prefill_proposed", reuse.new_version(session, pps2, "u1").document
        )
    assert proposed[0]["fields"] == []


def test_validated_document_editable(session, patient):
    frcp = validate(session, create_frcp(session, patient, "u1"))
    with pytest.raises(DocumentRuleError):
        enter(session, frcp, "x", "y", "u1")
    assert journal(session, "document.content_modified", frcp) == []
    with faults.enabled("validated_document_editable"):
        enter(session, frcp, "x", "y", "u1")
    assert [e["status"] for e in journal(session, "document.content_modified", frcp)] == [VALIDE]


def test_pps_from_unvalidated_frcp(session, patient):
    frcp = create_frcp(session, patient, "u1")
    with pytest.raises(DocumentRuleError):
        create_pps(session, frcp, "u1")
    with faults.enabled("pps_from_unvalidated_frcp"):
        pps = create_pps(session, frcp, "u1")
    assert journal(session, "document.created", pps)[0]["frcp_status"] == EN_COURS


def test_field_entry_without_author(session, patient):
    frcp = create_frcp(session, patient, "u1")
    enter(session, frcp, "a", "1", "u1")
    with faults.enabled("field_entry_without_author"):
        enter(session, frcp, "b", "2", "u1")
    assert ["author" in e for e in journal(session, "document.field_entered", frcp)] == [True, False]


def test_transition_refusal_not_recorded(session, patient):
    frcp = validate(session, create_frcp(session, patient, "u1"))
    session.commit()
    with pytest.raises(DocumentRuleError):
        commands.change_status(session, frcp.id, EN_COURS, "u1")
    assert len(journal(session, "document.transition_refused", frcp)) == 1
    with faults.enabled("transition_refusal_not_recorded"), pytest.raises(DocumentRuleError):
        commands.change_status(session, frcp.id, EN_COURS, "u1")
    assert len(journal(session, "document.transition_refused", frcp)) == 1
