"""staff second factor: TOTP secret, last accepted time step, recovery code hashes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 02:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recovery_code_hashes", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("recovery_code_hashes")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
