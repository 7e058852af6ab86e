"""Resources of the DCC (cahier des charges 2.1.5): therapeutic data bank and favourites, PS contact directory and
its Annuaire Santé imports, regional RCP directory, RCP sessions, registrations and notifications.

Revision ID: 0008_resources
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_resources"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bdt_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("code", sa.String(40)),
        sa.Column("code_system", sa.String(80)),
        sa.Column("details", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("kind", "label", name="uq_bdt_entry_kind_label"),
    )
    op.create_table(
        "bdt_favorite",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("bdt_entry.id"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.UniqueConstraint("user_id", "entry_id", name="uq_bdt_favorite_user_id_entry_id"),
    )
    op.create_index("ix_bdt_favorite_user_id", "bdt_favorite", ["user_id"])
    op.create_table(
        "ps_contact",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("id_type", sa.String(1), nullable=False),
        sa.Column("rpps", sa.String(11), nullable=False),
        sa.Column("idnat", sa.String(12), nullable=False),
        sa.Column("civilite", sa.String(10)),
        sa.Column("family", sa.String(100), nullable=False),
        sa.Column("given", sa.String(100)),
        sa.Column("family_folded", sa.String(100), nullable=False),
        sa.Column("profession_code", sa.String(10)),
        sa.Column("profession_label", sa.String(100)),
        sa.Column("savoir_faire", sa.String(20)),
        sa.Column("activities", sa.JSON, nullable=False),
        sa.Column("mss_address", sa.String(200)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("ps_import_id", sa.String(36)),
        sa.Column("mss_import_id", sa.String(36)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_ps_contact_idnat", "ps_contact", ["idnat"])
    op.create_index("ix_ps_contact_rpps", "ps_contact", ["rpps"])
    op.create_index("ix_ps_contact_family_folded", "ps_contact", ["family_folded"])
    op.create_index("ix_ps_contact_mss_address", "ps_contact", ["mss_address"])
    op.create_table(
        "mss_mailbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(200), nullable=False, unique=True),
        sa.Column("type", sa.String(3), nullable=False),
        sa.Column("idnat_pp", sa.String(12)),
        sa.Column("structure_id", sa.String(40)),
        sa.Column("service", sa.String(200)),
        sa.Column("import_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_mss_mailbox_idnat_pp", "mss_mailbox", ["idnat_pp"])
    op.create_table(
        "annuaire_import",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
    )
    op.create_table(
        "annuaire_reject",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.String(36), sa.ForeignKey("annuaire_import.import_id"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_annuaire_reject_import_id", "annuaire_reject", ["import_id"])
    op.create_table(
        "rcp",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rrc_id", sa.String(40)),
        sa.Column("manager_id", sa.String(40)),
        sa.Column("organiser", sa.String(200), nullable=False),
        sa.Column("organiser_finess", sa.String(9)),
        sa.Column("centre_3c", sa.String(200), nullable=False),
        sa.Column("specialty", sa.String(100), nullable=False),
        sa.Column("quorum_specialties", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "rcp_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rcp_id", sa.Integer, sa.ForeignKey("rcp.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("date", TZ, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("visio", sa.Boolean, nullable=False),
        sa.Column("visio_url", sa.String(300)),
        sa.Column("participants", sa.JSON, nullable=False),
        sa.Column("planned_by", sa.String(64), nullable=False),
        sa.Column("final_list_closed_at", TZ),
        sa.Column("final_list_closed_by", sa.String(64)),
        sa.Column("present", sa.JSON),
        sa.Column("quorum", sa.String(8)),
        sa.Column("quorum_recorded_by", sa.String(64)),
    )
    op.create_index("ix_rcp_session_rcp_id", "rcp_session", ["rcp_id"])
    op.create_table(
        "rcp_registration",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("rcp_session.id"), nullable=False),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("document.id")),
        sa.Column("doctor", sa.String(64), nullable=False),
        sa.Column("doctor_mss", sa.String(200)),
        sa.Column("motive", sa.Text),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("retained", sa.Boolean),
        sa.UniqueConstraint("session_id", "patient_id", name="uq_rcp_registration_session_id_patient_id"),
    )
    op.create_index("ix_rcp_registration_session_id", "rcp_registration", ["session_id"])
    op.create_table(
        "rcp_notification",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("rcp_session.id"), nullable=False),
        sa.Column("registration_id", sa.Integer, sa.ForeignKey("rcp_registration.id"), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("recipient_mss", sa.String(200)),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_rcp_notification_session_id", "rcp_notification", ["session_id"])


def downgrade() -> None:
    for table in (
        "rcp_notification",
        "rcp_registration",
        "rcp_session",
        "rcp",
        "annuaire_reject",
        "annuaire_import",
        "mss_mailbox",
        "ps_contact",
        "bdt_favorite",
        "bdt_entry",
    ):
        op.drop_table(table)
