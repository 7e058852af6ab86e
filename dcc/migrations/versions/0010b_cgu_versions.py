"""Published CGU versions (cahier des charges 2.3.1: a new version is accepted again at the next login).

Revision ID: 0010b_cgu_versions
Revises: 0010_auth
"""

import sqlalchemy as sa
from alembic import op

revision = "0010b_cgu_versions"
down_revision = "0010_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cgu_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.String(20), nullable=False, unique=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cgu_version")
