"""Published CGU versions, conventions, the clause de confiance at identity validation through the test driver, and
the driver's own configuration operation (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dcc import faults
from dcc.auth import sessions
from dcc.db import make_session_factory
from dcc.db.models import DccEvent
from dcc.driver import Driver, Refused
from dcc.driver_ops.configuration import driver_configure
from dcc.services import cgu
from tests.dcc.auth.conftest import local_account, settings_for

pytestmark = pytest.mark.persistence

TRAITS = {"nom_naissance": "CLAUSE", "prenoms": ["ANNE"], "sexe": "F", "date_naissance": "1970-01-02"}


def _events(session, kind: str) -> list[dict]:
    return [e.data for e in session.scalars(select(DccEvent).where(DccEvent.type == kind))]


def test_a_published_version_is_in_force_and_asked_again(session):
    settings = settings_for()
    account = local_account(session, "cgu-versions")[0]
    assert cgu.in_force(session, settings.cgu_version) == settings.cgu_version
    cgu.accept(session, account.username, settings.cgu_version, account.user_kind)
    cgu.publish(session, "2027-01", "dsrc")
    assert cgu.in_force(session, settings.cgu_version) == "2027-01"
    opened = sessions.open_session(session, settings, account, "password_otp")
    assert opened.cgu_required == "cgu_changed"
    assert _events(session, "cgu.published")[-1]["cgu_version"] == "2027-01"
    assert _events(session, "cgu.required")[-1] == {
        "user_id": account.username,
        "reason": "cgu_changed",
        "cgu_version": "2027-01",
    }
    with pytest.raises(cgu.CguError) as twice:
        cgu.publish(session, "2027-01", "dsrc")
    assert twice.value.reason == "version_exists"


def test_a_convention_is_in_force_over_its_period(session):
    now = datetime.now(UTC)
    cgu.record_convention(session, "990000001", "dsrc", now - timedelta(days=1), now + timedelta(days=1))
    assert cgu.convention_in_force(session, "990000001", now)
    assert not cgu.convention_in_force(session, "990000001", now + timedelta(days=2))
    with pytest.raises(cgu.CguError):
        cgu.record_convention(session, "12", "dsrc")


def _driver(engine) -> Driver:
    return Driver(make_session_factory(engine))


def test_validation_without_the_clause_is_refused_and_journaled(engine):
    driver = _driver(engine)
    patient = driver.create_patient(TRAITS, "medecin-1")["patient_id"]
    with pytest.raises(Refused) as refused:
        driver.change_identity_status(
            patient, "validee", "lib-1", justificatif="carte_identite", user_kind="liberal"
        )
    assert refused.value.reason == "no_trust_clause"
    with make_session_factory(engine)() as session:
        requested = _events(session, "identity.qualification_requested")
        refusals = _events(session, "identity.qualification_refused")
    assert requested[-1]["trust_clause"] is False and requested[-1]["patient_id"] == patient
    assert refusals[-1]["reason"] == "no_trust_clause"
    with faults.enabled("qualification_without_trust_clause"):
        changed = driver.change_identity_status(
            patient, "validee", "lib-1", justificatif="carte_identite", user_kind="liberal"
        )
    assert changed["identity_status"] == "validee"


def test_an_establishment_needs_its_convention(engine):
    driver = _driver(engine)
    patient = driver.create_patient(TRAITS, "medecin-1")["patient_id"]
    driver.accept_cgu("etab-1", "1", "etablissement")
    kw = {"justificatif": "carte_identite", "user_kind": "etablissement", "finess": "990000002"}
    with pytest.raises(Refused):
        driver.change_identity_status(patient, "validee", "etab-1", **kw)
    driver.call("auth_record_convention", finess="990000002", author="dsrc")
    assert driver.change_identity_status(patient, "validee", "etab-1", **kw)["identity_status"] == "validee"
    with make_session_factory(engine)() as session:
        changed = _events(session, "identity.status_changed")[-1]
    assert changed["convention_valid"] is True and changed["trust_clause"] is True


def test_driver_configure_sets_and_restores_dcc_settings(session, monkeypatch):
    monkeypatch.setenv("DCC_PSC_URL", "http://before")
    monkeypatch.delenv("DCC_CONTEXTUAL_SECRET", raising=False)
    driver_configure(session, {"DCC_PSC_URL": "http://after", "DCC_CONTEXTUAL_SECRET": "x" * 32})
    assert os.environ["DCC_PSC_URL"] == "http://after"
    driver_configure(session, {})
    assert os.environ["DCC_PSC_URL"] == "http://before"
    assert "DCC_CONTEXTUAL_SECRET" not in os.environ
    for forbidden in ({"DCC_DATABASE_URL": "sqlite://"}, {"PATH": "/tmp"}):
        with pytest.raises(ValueError):
            driver_configure(session, forbidden)
