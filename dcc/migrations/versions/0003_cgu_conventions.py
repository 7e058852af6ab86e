"""CGU acceptances and establishment conventions (clause de confiance).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cgu_acceptance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("cgu_version", sa.String(20), nullable=False),
        sa.Column("user_kind", sa.String(14), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "convention",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finess", sa.String(9), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("convention")
    op.drop_table("cgu_acceptance")
