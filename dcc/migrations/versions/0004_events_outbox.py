"""The event journal (what the DCC did, exported in the trace envelope) and the transmission outbox.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dcc_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("artifacts", sa.JSON),
        sa.Column("scope", sa.String(80)),
    )
    op.create_index("ix_dcc_event_type", "dcc_event", ["type"])
    op.create_index("ix_dcc_event_scope", "dcc_event", ["scope"])
    op.create_table(
        "transmission",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(160), nullable=False, unique=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("document.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("external_id", sa.String(200)),
        sa.Column("last_error", sa.Text),
        sa.Column("finess", sa.String(9)),
        sa.Column("rpps", sa.String(11)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_transmission_state_next", "transmission", ["state", "next_attempt_at"])
    op.create_table(
        "transmission_attempt",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transmission_id", sa.Integer, sa.ForeignKey("transmission.id"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("ins_qualified", sa.Boolean, nullable=False),
    )
    op.create_index("ix_transmission_attempt_at", "transmission_attempt", ["at"])
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("finess", sa.String(9)))
        batch.add_column(sa.Column("author_rpps", sa.String(11)))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("author_rpps")
        batch.drop_column("finess")
    op.drop_table("transmission_attempt")
    op.drop_table("transmission")
    op.drop_table("dcc_event")
