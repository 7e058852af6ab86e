"""Patients with their identity status and history; the hash-chained audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nom_naissance", sa.String(100), nullable=False),
        sa.Column("prenoms", sa.String(200), nullable=False),
        sa.Column("sexe", sa.String(1), nullable=False),
        sa.Column("date_naissance", sa.String(10), nullable=False),
        sa.Column("lieu_naissance", sa.String(5)),
        sa.Column("ins_matricule", sa.String(15)),
        sa.Column("ins_oid", sa.String(64)),
        sa.Column("identity_status", sa.String(12), nullable=False),
        sa.Column("justificatif", sa.String(40)),
        sa.Column("mode", sa.String(6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "identity_status_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "patient_id",
            sa.Integer,
            sa.ForeignKey("patient.id", name="fk_identity_status_change_patient_id_patient"),
            nullable=False,
        ),
        sa.Column("previous_status", sa.String(12)),
        sa.Column("new_status", sa.String(12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("identity_status_change")
    op.drop_table("patient")
