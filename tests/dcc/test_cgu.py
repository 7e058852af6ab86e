"""CGU acceptance and the clause de confiance (2.3.1), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dcc.db.models import Convention
from dcc.services.cgu import accept, requirement, trust_clause

pytestmark = pytest.mark.persistence
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_first_access_yearly_and_changed(session):
    assert requirement(session, "u1", "3", NOW).reason == "first_access"
    accept(session, "u1", "3", "liberal", now=NOW)
    assert not requirement(session, "u1", "3", NOW + timedelta(days=364)).required
    assert requirement(session, "u1", "3", NOW + timedelta(days=366)).reason == "yearly"
    assert requirement(session, "u1", "4", NOW + timedelta(days=1)).reason == "cgu_changed"
    accept(session, "u1", "4", "liberal", now=NOW + timedelta(days=2))
    assert not requirement(session, "u1", "4", NOW + timedelta(days=3)).required
    with pytest.raises(ValueError, match="liberal or etablissement"):
        accept(session, "u1", "4", "autre", now=NOW)


def test_clause_de_confiance_liberal_and_etablissement(session):
    assert trust_clause(session, "lib", "3", "liberal", now=NOW) == (False, "cgu_first_access")
    accept(session, "lib", "3", "liberal", now=NOW)
    assert trust_clause(session, "lib", "3", "liberal", now=NOW) == (True, None)
    accept(session, "es", "3", "etablissement", now=NOW)
    assert trust_clause(session, "es", "3", "etablissement", "750000001", now=NOW) == (False, "no_convention")
    session.add(
        Convention(
            finess="750000001", valid_from=NOW - timedelta(days=10), valid_until=NOW + timedelta(days=10)
        )
    )
    session.flush()
    assert trust_clause(session, "es", "3", "etablissement", "750000001", now=NOW) == (True, None)
    assert trust_clause(session, "es", "3", "etablissement", "750000001", now=NOW + timedelta(days=11)) == (
        False,
        "no_convention",
    )
