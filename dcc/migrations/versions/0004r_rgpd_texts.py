"""Information texts adapted by an establishment (text 1 of cahier des charges 2.1.1.3).

Revision ID: 0004r_rgpd_texts
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004r_rgpd_texts"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rgpd_text",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finess", sa.String(9), nullable=False),
        sa.Column("text", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("finess", "text", name="uq_rgpd_text_finess_text"),
    )


def downgrade() -> None:
    op.drop_table("rgpd_text")
