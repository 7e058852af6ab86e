"""Identity inputs: identities received by flow or typed by hand, their rapprochement case and decision.

Revision ID: 0006_identity
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_identity"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_input",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(6), nullable=False),
        sa.Column("source_system", sa.String(120)),
        sa.Column("source_identity_id", sa.String(120)),
        sa.Column("traits", sa.JSON, nullable=False),
        sa.Column("received_status", sa.String(12)),
        sa.Column("ins_matricule", sa.String(15)),
        sa.Column("ins_oid", sa.String(64)),
        sa.Column("justificatif", sa.String(40)),
        sa.Column("trust_clause", sa.Boolean, nullable=False),
        sa.Column("document_id", sa.String(200)),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("match", sa.String(12)),
        sa.Column("case", sa.String(3)),
        sa.Column("candidates", sa.JSON),
        sa.Column(
            "patient_id", sa.Integer, sa.ForeignKey("patient.id", name="fk_identity_input_patient_id_patient")
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(64)),
    )
    op.create_index("ix_identity_input_source_identity_id", "identity_input", ["source_identity_id"])


def downgrade() -> None:
    op.drop_index("ix_identity_input_source_identity_id", "identity_input")
    op.drop_table("identity_input")
