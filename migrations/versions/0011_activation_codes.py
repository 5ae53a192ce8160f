"""activation codes expire; roster code files kept in plain text are removed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 01:40:00

Codes were stored as hashes on the account, but every roster import also kept its codes
file, in plain text, for as long as the job existed. The files are deleted here and their
jobs say so; the codes in them keep working until they expire, VALID_DAYS after the upgrade,
so codes already handed out are not cut off at once.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

VALID_DAYS = 30


def upgrade():
    op.add_column("users", sa.Column("activation_expires_at", sa.DateTime(), nullable=True))
    now = datetime.now(UTC).replace(tzinfo=None)
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE users SET activation_expires_at = :at WHERE activation_code_hash IS NOT NULL"
        ),
        {"at": now + timedelta(days=VALID_DAYS)},
    )
    jobs = sa.table(
        "jobs",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("params", sa.JSON),
        sa.column("result_key", sa.String),
    )
    stale = bind.execute(
        sa.select(jobs.c.id, jobs.c.params, jobs.c.result_key).where(
            jobs.c.kind == "roster_import", jobs.c.result_key.is_not(None)
        )
    ).all()
    if not stale:
        return
    for job_id, params, _key in stale:
        bind.execute(
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(
                result_key=None,
                params={**(params or {}), "codes_expired_at": now.isoformat()},
            )
        )
    # Files last: if the upgrade fails before this point, nothing is lost.
    from promkm_qr.storage import get_storage

    for _job_id, _params, key in stale:
        get_storage().delete(key)


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("activation_expires_at")
