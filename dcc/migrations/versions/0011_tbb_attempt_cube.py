"""Regional dashboard (TBB): each transmission attempt carries the few dimensions the dashboard groups it by —
its UTC month, channel, document kind, FINESS and RPPS — copied when the attempt is written, with one covering
index in the cube's order, so the monthly counts need neither a join per attempt nor a sort (10 M attempts).

Rows written before this revision are filled in from their transmission and document here.

Revision ID: 0011_tbb_attempt_cube
Revises: 0009_transmissions
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_tbb_attempt_cube"
down_revision = "0009_transmissions"
branch_labels = None
depends_on = None

CUBE_INDEX = "ix_transmission_attempt_cube"
CUBE_COLUMNS = ["month", "channel", "kind", "finess", "rpps", "result", "ins_qualified"]


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (nullable, no default) on both databases: no table copy on SQLite.
    for column in (
        sa.Column("month", sa.String(7)),
        sa.Column("channel", sa.String(16)),
        sa.Column("kind", sa.String(4)),
        sa.Column("finess", sa.String(9)),
        sa.Column("rpps", sa.String(11)),
    ):
        op.add_column("transmission_attempt", column)
    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(timezone('UTC', a.at), 'YYYY-MM')"
        op.execute(
            f"""UPDATE transmission_attempt AS a SET month = {month}, channel = t.channel, kind = d.kind,
                finess = COALESCE(t.finess, d.finess), rpps = COALESCE(t.rpps, d.author_rpps)
                FROM transmission AS t JOIN document AS d ON d.id = t.document_id
                WHERE t.id = a.transmission_id"""
        )
    else:
        op.execute(
            """UPDATE transmission_attempt SET month = substr(at, 1, 7),
                channel = (SELECT t.channel FROM transmission t WHERE t.id = transmission_id),
                kind = (SELECT d.kind FROM transmission t JOIN document d ON d.id = t.document_id
                        WHERE t.id = transmission_id),
                finess = (SELECT COALESCE(t.finess, d.finess) FROM transmission t
                          JOIN document d ON d.id = t.document_id WHERE t.id = transmission_id),
                rpps = (SELECT COALESCE(t.rpps, d.author_rpps) FROM transmission t
                        JOIN document d ON d.id = t.document_id WHERE t.id = transmission_id)"""
        )
    op.create_index(CUBE_INDEX, "transmission_attempt", CUBE_COLUMNS)


def downgrade() -> None:
    op.drop_index(CUBE_INDEX, table_name="transmission_attempt")
    with op.batch_alter_table("transmission_attempt") as batch:
        for column in ("rpps", "finess", "kind", "channel", "month"):
            batch.drop_column(column)
