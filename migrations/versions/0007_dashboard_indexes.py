"""dashboard indexes

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-28 02:38:28.332563

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN_REVIEW = "state IN ('submitted', 'confirmed', 'disputed') AND (flagged OR state = 'disputed')"


def upgrade():
    with op.batch_alter_table("purchase_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchase_reports_open_review",
            ["stall_id"],
            unique=False,
            postgresql_where=sa.text(OPEN_REVIEW),
            sqlite_where=sa.text(OPEN_REVIEW),
        )
        batch_op.create_index(
            "ix_purchase_reports_time_cover",
            ["purchased_at"],
            unique=False,
            postgresql_include=["state", "amount", "stall_id", "opd_id", "asn_id"],
        )


def downgrade():
    with op.batch_alter_table("purchase_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_reports_time_cover")
        batch_op.drop_index("ix_purchase_reports_open_review")
