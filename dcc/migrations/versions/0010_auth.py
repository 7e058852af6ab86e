"""Authentication and authorisation: accounts, care teams, sessions, pending PSC authorisations, used contextual
call token ids (cahier des charges 2.2).

Revision ID: 0010_auth
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_auth"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("rpps", sa.String(11), unique=True),
        sa.Column("user_kind", sa.String(14), nullable=False),
        sa.Column("finess", sa.String(9)),
        sa.Column("activities", sa.JSON),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_last_step", sa.Integer),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "care_team_member",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("team_role", sa.String(20), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("patient_id", "account_id", name="uq_care_team_member_patient_account"),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("method", sa.String(14), nullable=False),
        sa.Column("acr", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("cgu_pending", sa.Boolean, nullable=False),
        sa.Column("psc_access_token", sa.Text),
        sa.Column("psc_token_expires_at", sa.DateTime(timezone=True)),
        sa.Column("context", sa.JSON),
    )
    op.create_table(
        "psc_authorization",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(64), nullable=False, unique=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "contextual_jti",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("jti", sa.String(128), nullable=False, unique=True),
        sa.Column("issuer", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contextual_jti")
    op.drop_table("psc_authorization")
    op.drop_table("user_session")
    op.drop_table("care_team_member")
    op.drop_table("user_account")
