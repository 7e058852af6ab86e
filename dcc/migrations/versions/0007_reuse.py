"""Data reuse: received CDA documents (CR-GM), prefill proposals with the user's choice, an index of a patient's
documents.

Revision ID: 0007_reuse
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_reuse"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_document",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("document_id", sa.String(200), nullable=False),
        sa.Column("set_id", sa.String(200)),
        sa.Column("version", sa.Integer),
        sa.Column("effective_time", sa.String(32)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("extracted", sa.JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_external_document_patient_id", "external_document", ["patient_id"])
    op.create_table(
        "prefill_proposal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("document.id"), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept", sa.JSON),
        sa.Column("applied_by", sa.String(64)),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_prefill_proposal_document_id", "prefill_proposal", ["document_id"])
    # the reuse look-ups (a patient's latest validated PPS or FRCP) and a patient's document list
    op.create_index("ix_document_patient_id_kind", "document", ["patient_id", "kind"])
    # a status change counts the document's attachments
    op.create_index("ix_attachment_document_id", "attachment", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_attachment_document_id", "attachment")
    op.drop_index("ix_document_patient_id_kind", "document")
    op.drop_index("ix_prefill_proposal_document_id", "prefill_proposal")
    op.drop_table("prefill_proposal")
    op.drop_index("ix_external_document_patient_id", "external_document")
    op.drop_table("external_document")
