"""dashboard rollups: exact per-day and per-month totals kept by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 04:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DELTA_COLUMNS = "day, kelurahan_id, category_id, stall_id, asn_id, opd_id, state, count, amount"
CHANGED = (
    "OLD.state IS DISTINCT FROM NEW.state OR OLD.amount IS DISTINCT FROM NEW.amount "
    "OR OLD.purchased_at IS DISTINCT FROM NEW.purchased_at "
    "OR OLD.stall_id IS DISTINCT FROM NEW.stall_id OR OLD.asn_id IS DISTINCT FROM NEW.asn_id "
    "OR OLD.opd_id IS DISTINCT FROM NEW.opd_id"
)
OPEN_REVIEW = "state IN ('submitted', 'confirmed', 'disputed') AND (flagged OR state = 'disputed')"
STALL_MOVED = (
    "OLD.kelurahan_id IS DISTINCT FROM NEW.kelurahan_id "
    "OR OLD.category_id IS DISTINCT FROM NEW.category_id"
)


def _report_row(ref: str, sign: str, day: str, lock: str = "") -> str:
    """INSERT of one report's signed delta, with its stall's kelurahan and category."""
    return (
        f"INSERT INTO rollup_deltas ({DELTA_COLUMNS}) "  # noqa: S608 (constant pieces)
        f"SELECT {day}, s.kelurahan_id, coalesce(s.category_id, 0), {ref}.stall_id, "
        f"{ref}.asn_id, coalesce({ref}.opd_id, 0), {ref}.state, {sign}1, {sign}{ref}.amount "
        f"FROM stalls s WHERE s.id = {ref}.stall_id{lock};"
    )


def _stall_history(ref: str, sign: str, day: str) -> str:
    """INSERT moving a stall's whole history out of (-) or into (+) its kelurahan/category."""
    return (
        f"INSERT INTO rollup_deltas ({DELTA_COLUMNS}) "  # noqa: S608 (constant pieces)
        f"SELECT {day}, {ref}.kelurahan_id, coalesce({ref}.category_id, 0), r.stall_id, "
        f"r.asn_id, coalesce(r.opd_id, 0), r.state, {sign}count(*), {sign}sum(r.amount) "
        f"FROM purchase_reports r WHERE r.stall_id = {ref}.id "
        f"GROUP BY {day}, r.stall_id, r.asn_id, r.opd_id, r.state;"
    )


def _pg_day(ref: str) -> str:
    return f"({ref}.purchased_at + interval '7 hours')::date"


def _sqlite_day(ref: str) -> str:
    return f"date({ref}.purchased_at, '+7 hours')"


# FOR SHARE on the stall: a concurrent move of the stall either waits for the report's
# transaction (and then sees the report) or is waited for (and the new kelurahan is read).
PG_DDL = f"""
CREATE FUNCTION rollup_report_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    {_report_row("OLD", "-", _pg_day("OLD"), " FOR SHARE")}
  END IF;
  {_report_row("NEW", "", _pg_day("NEW"), " FOR SHARE")}
  RETURN NULL;
END $$;

CREATE FUNCTION rollup_stall_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_stall_history("OLD", "-", _pg_day("r"))}
  {_stall_history("NEW", "", _pg_day("r"))}
  RETURN NULL;
END $$;

CREATE TRIGGER purchase_reports_rollup_insert AFTER INSERT ON purchase_reports
  FOR EACH ROW EXECUTE FUNCTION rollup_report_delta();

CREATE TRIGGER purchase_reports_rollup_update AFTER UPDATE OF
  state, amount, purchased_at, stall_id, asn_id, opd_id ON purchase_reports
  FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION rollup_report_delta();

CREATE TRIGGER stalls_rollup AFTER UPDATE OF kelurahan_id, category_id ON stalls
  FOR EACH ROW WHEN ({STALL_MOVED}) EXECUTE FUNCTION rollup_stall_move();
"""

# SQLite has one writer at a time, so reading the stall needs no lock.
SQLITE_DDL = [
    "CREATE TRIGGER purchase_reports_rollup_insert AFTER INSERT ON purchase_reports "
    f"BEGIN {_report_row('NEW', '', _sqlite_day('NEW'))} END",
    "CREATE TRIGGER purchase_reports_rollup_update AFTER UPDATE OF "
    "state, amount, purchased_at, stall_id, asn_id, opd_id ON purchase_reports "
    f"WHEN {CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    f"{_report_row('OLD', '-', _sqlite_day('OLD'))} "
    f"{_report_row('NEW', '', _sqlite_day('NEW'))} END",
    "CREATE TRIGGER stalls_rollup AFTER UPDATE OF kelurahan_id, category_id ON stalls "
    f"WHEN {STALL_MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    f"{_stall_history('OLD', '-', _sqlite_day('r'))} "
    f"{_stall_history('NEW', '', _sqlite_day('r'))} END",
]

ROLLUPS = {
    "rollup_area_days": ("day", "kelurahan_id", "category_id"),
    "rollup_stall_months": ("month", "stall_id"),
    "rollup_asn_months": ("month", "asn_id", "opd_id"),
    "rollup_asn_area_months": ("month", "kelurahan_id", "asn_id", "opd_id"),
}


REPORT_STATES = ("submitted", "confirmed", "disputed", "verified", "rejected", "withdrawn")


def _measures() -> list[sa.Column]:
    """A count and a rupiah column per report state."""
    columns = []
    for state in REPORT_STATES:
        columns.append(sa.Column(f"count_{state}", sa.Integer(), nullable=False))
        columns.append(sa.Column(f"amount_{state}", sa.BigInteger(), nullable=False))
    return columns


def upgrade():
    op.create_table(
        "rollup_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kelurahan_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("asn_id", sa.Integer(), nullable=False),
        sa.Column("opd_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_deltas")),
    )
    op.create_index("ix_rollup_deltas_day", "rollup_deltas", ["day"], unique=False)
    for table, keys in ROLLUPS.items():
        op.create_table(
            table,
            sa.Column(keys[0], sa.Date(), nullable=False),
            *(
                sa.Column(key, sa.Integer(), autoincrement=False, nullable=False)
                for key in keys[1:]
            ),
            *_measures(),
            sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{table}")),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DDL)
    else:
        for statement in SQLITE_DDL:
            op.execute(statement)
    # The open review queue is counted from this index alone (PostgreSQL index-only scans).
    with op.batch_alter_table("purchase_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_reports_open_review")
        batch_op.create_index(
            "ix_purchase_reports_open_review",
            ["stall_id"],
            unique=False,
            postgresql_where=sa.text(OPEN_REVIEW),
            sqlite_where=sa.text(OPEN_REVIEW),
            postgresql_include=["id", "state", "flagged"],
        )
    if op.get_bind().dialect.name == "postgresql":
        # State and flag are far from independent (flags are open reports): without joint
        # statistics the planner expects a few dozen open flagged reports and loops.
        op.execute(
            "CREATE STATISTICS purchase_reports_state_flagged (mcv) ON state, flagged "
            "FROM purchase_reports"
        )
    # Reports that exist already enter the rollups as pending deltas.
    bind = op.get_bind()
    day = _pg_day("r") if bind.dialect.name == "postgresql" else _sqlite_day("r")
    op.execute(
        f"INSERT INTO rollup_deltas ({DELTA_COLUMNS}) "  # noqa: S608 (constant pieces)
        f"SELECT {day}, s.kelurahan_id, coalesce(s.category_id, 0), r.stall_id, r.asn_id, "
        "coalesce(r.opd_id, 0), r.state, count(*), sum(r.amount) "
        "FROM purchase_reports r JOIN stalls s ON s.id = r.stall_id "
        f"GROUP BY {day}, s.kelurahan_id, s.category_id, r.stall_id, r.asn_id, r.opd_id, r.state"
    )


def downgrade():
    with op.batch_alter_table("purchase_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_reports_open_review")
        batch_op.create_index(
            "ix_purchase_reports_open_review",
            ["stall_id"],
            unique=False,
            postgresql_where=sa.text(OPEN_REVIEW),
            sqlite_where=sa.text(OPEN_REVIEW),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS purchase_reports_state_flagged")
        op.execute("DROP TRIGGER stalls_rollup ON stalls")
        op.execute("DROP TRIGGER purchase_reports_rollup_update ON purchase_reports")
        op.execute("DROP TRIGGER purchase_reports_rollup_insert ON purchase_reports")
        op.execute("DROP FUNCTION rollup_stall_move()")
        op.execute("DROP FUNCTION rollup_report_delta()")
    else:
        for name in (
            "stalls_rollup",
            "purchase_reports_rollup_update",
            "purchase_reports_rollup_insert",
        ):
            op.execute(f"DROP TRIGGER {name}")
    for table in reversed(ROLLUPS):
        op.drop_table(table)
    op.drop_index("ix_rollup_deltas_day", table_name="rollup_deltas")
    op.drop_table("rollup_deltas")
