"""Transmissions: lease and in-flight columns of the outbox, acknowledgements, DMP entries and cache, the
patient's DMP choices, inbound messages.

Revision ID: 0009_transmissions
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_transmissions"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transmission") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64)))
        # attempt number started and not concluded: a worker died mid-delivery (in doubt until checked)
        batch.add_column(sa.Column("inflight_attempt", sa.Integer))
        batch.add_column(sa.Column("inflight_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("document_status", sa.String(10)))
        batch.add_column(sa.Column("identity_status", sa.String(12)))
        batch.add_column(sa.Column("recipient_source", sa.String(16)))
        batch.add_column(sa.Column("options", sa.JSON))
    op.create_table(
        "transmission_ack",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmission.id")),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("code", sa.String(8)),
        sa.Column("detail", sa.Text),
        sa.Column("recipient", sa.String(200)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_transmission_ack_message_id", "transmission_ack", ["message_id"])
    op.create_table(
        "dmp_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("document.id"), nullable=False),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmission.id")),
        sa.Column("entry_uuid", sa.String(64), nullable=False),
        sa.Column("unique_id", sa.String(200), nullable=False, unique=True),
        sa.Column("patient_ins", sa.String(15), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("set_id", sa.String(64), nullable=False),
        sa.Column("invisible_patient", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("replaces_unique_id", sa.String(200)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dmp_entry_patient_ins", "dmp_entry", ["patient_ins"])
    op.create_table(
        "dmp_cached_document",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_ins", sa.String(15), nullable=False),
        sa.Column("unique_id", sa.String(200), nullable=False, unique=True),
        sa.Column("type_code", sa.String(16)),
        sa.Column("status", sa.String(12)),
        sa.Column("mime_type", sa.String(64)),
        sa.Column("content", sa.LargeBinary),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dmp_cached_document_patient_ins", "dmp_cached_document", ["patient_ins"])
    op.create_table(
        "dmp_patient_choice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, unique=True),
        sa.Column("opposition", sa.Boolean, nullable=False),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("result", sa.String(12), nullable=False),
        sa.Column("code", sa.String(8)),
        sa.Column("detail", sa.Text),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("document.id")),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inbound_message")
    op.drop_table("dmp_patient_choice")
    op.drop_table("dmp_cached_document")
    op.drop_table("dmp_entry")
    op.drop_table("transmission_ack")
    with op.batch_alter_table("transmission") as batch:
        for column in (
            "options",
            "recipient_source",
            "identity_status",
            "document_status",
            "inflight_at",
            "inflight_attempt",
            "lease_owner",
        ):
            batch.drop_column(column)
