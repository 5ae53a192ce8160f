"""evidence photos can be removed when their retention period ends

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 02:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("evidence", sa.Column("purged_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("purged_at")
