"""Migration 0011_tbb_attempt_cube fills the dashboard's columns of the attempts written before it, from their
transmission and document, as the transmission worker fills them for new ones (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, insert, select

from dcc.db.base import MIGRATIONS, migrate
from dcc.db.models import Document, Patient, Transmission, TransmissionAttempt

pytestmark = pytest.mark.persistence


def test_existing_attempts_get_their_dimensions(database_url):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "0009_transmissions")  # the branch as it was before the dashboard's columns
    engine = create_engine(database_url)
    at = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    # Only the columns that exist at 0009 (the models' tables also have the new ones: they are left out here).
    with engine.begin() as connection:
        connection.execute(
            insert(Patient.__table__).values(
                id=1,
                nom_naissance="A",
                prenoms="B",
                sexe="F",
                date_naissance="1960-01-01",
                identity_status="qualifiee",
                mode="saisie",
                created_at=at,
            )
        )
        connection.execute(
            insert(Document.__table__).values(
                id=1,
                kind="PPS",
                patient_id=1,
                set_id="s",
                version=1,
                status="valide",
                content={},
                rgpd_text_1="t",
                created_at=at,
                created_by="test",
                finess="750000001",
                author_rpps="81000000001",
            )
        )
        for tid, finess, rpps in ((1, None, None), (2, "690000002", "82000000002")):
            connection.execute(
                insert(Transmission.__table__).values(
                    id=tid,
                    key=f"k{tid}",
                    document_id=1,
                    channel="mss_pro",
                    recipient="r",
                    format="cda_n3",
                    trigger="validation",
                    state="sent",
                    attempts=1,
                    next_attempt_at=at,
                    finess=finess,
                    rpps=rpps,
                    created_at=at,
                )
            )
            connection.execute(
                insert(TransmissionAttempt.__table__).values(
                    id=tid, transmission_id=tid, attempt=1, at=at, result="success", ins_qualified=True
                )
            )
    engine.dispose()
    migrate(database_url)
    engine = create_engine(database_url)
    a = TransmissionAttempt.__table__
    with engine.connect() as connection:
        rows = connection.execute(
            select(a.c.id, a.c.month, a.c.channel, a.c.kind, a.c.finess, a.c.rpps).order_by(a.c.id)
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "2026-03", "mss_pro", "PPS", "750000001", "81000000001"),  # the document's FINESS and RPPS
        (2, "2026-03", "mss_pro", "PPS", "690000002", "82000000002"),  # the transmission's own
    ]
