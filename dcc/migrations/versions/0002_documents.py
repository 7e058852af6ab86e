"""FRCP and PPS documents, their manual entries and attachments.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column(
            "patient_id",
            sa.Integer,
            sa.ForeignKey("patient.id", name="fk_document_patient_id_patient"),
            nullable=False,
        ),
        sa.Column("set_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("frcp_id", sa.Integer, sa.ForeignKey("document.id", name="fk_document_frcp_id_document")),
        sa.Column(
            "replaces_id", sa.Integer, sa.ForeignKey("document.id", name="fk_document_replaces_id_document")
        ),
        sa.Column("read_only_reason", sa.String(40)),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("rgpd_text_1", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("set_id", "version", name="uq_document_set_id_version"),
    )
    op.create_table(
        "field_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("document.id", name="fk_field_entry_document_id_document"),
            nullable=False,
        ),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("document.id", name="fk_attachment_document_id_document"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("attachment")
    op.drop_table("field_entry")
    op.drop_table("document")
