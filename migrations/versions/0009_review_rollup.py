"""review queue rollup: open flagged and disputed reports per kelurahan and reason

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 07:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = "('submitted', 'confirmed', 'disputed')"
# A report counts once per flag while open and flagged, and once as "disputed" while disputed.
IN_QUEUE = (
    f"(OLD.state IN {OPEN} AND OLD.flagged) IS DISTINCT FROM (NEW.state IN {OPEN} AND NEW.flagged) "
    "OR (OLD.state = 'disputed') IS DISTINCT FROM (NEW.state = 'disputed') "
    "OR OLD.stall_id IS DISTINCT FROM NEW.stall_id"
)
INSERT = "INSERT INTO review_deltas (kelurahan_id, reason, count) "


def _report_rows(ref: str, sign: str, lock: str = "") -> str:
    """A report's signed queue entries: one per flag, and one for a dispute."""
    return (
        f"{INSERT}SELECT s.kelurahan_id, f.rule, {sign}1 FROM stalls s "  # noqa: S608
        f"JOIN report_flags f ON f.report_id = {ref}.id WHERE s.id = {ref}.stall_id "
        f"AND {ref}.flagged AND {ref}.state IN {OPEN}{lock}; "
        f"{INSERT}SELECT s.kelurahan_id, 'disputed', {sign}1 FROM stalls s "
        f"WHERE s.id = {ref}.stall_id AND {ref}.state = 'disputed'{lock};"
    )


def _flag_row(ref: str, sign: str, lock: str = "") -> str:
    """One flag's signed entry, when its report is open and flagged now."""
    return (
        f"{INSERT}SELECT s.kelurahan_id, {ref}.rule, {sign}1 FROM purchase_reports r "  # noqa: S608
        f"JOIN stalls s ON s.id = r.stall_id WHERE r.id = {ref}.report_id "
        f"AND r.flagged AND r.state IN {OPEN}{lock};"
    )


def _stall_rows(ref: str, sign: str) -> str:
    """A stall's open queue entered into (+) or taken out of (-) its kelurahan."""
    return (
        f"{INSERT}SELECT {ref}.kelurahan_id, f.rule, {sign}1 FROM purchase_reports r "  # noqa: S608
        f"JOIN report_flags f ON f.report_id = r.id WHERE r.stall_id = {ref}.id "
        f"AND r.flagged AND r.state IN {OPEN}; "
        f"{INSERT}SELECT {ref}.kelurahan_id, 'disputed', {sign}1 FROM purchase_reports r "
        f"WHERE r.stall_id = {ref}.id AND r.state = 'disputed';"
    )


# Locks. The stall is read FOR KEY SHARE and a move to another kelurahan takes the stall FOR
# UPDATE first, so a move waits for a writer or is waited for (and the kelurahan then read
# again); other stall edits (FOR NO KEY UPDATE) do not wait, so the rule checks on reports
# never queue behind an audited stall edit holding the audit lock (a deadlock otherwise). A
# flag change first locks its report as an update of the report would, so a concurrent
# change of the report's state or flag (or of its flags) either waits and then reads this
# flag, or is waited for and its outcome is read here: each statement of a trigger function
# reads a fresh READ COMMITTED snapshot.
PG_DDL = f"""
CREATE FUNCTION review_report_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    {_report_rows("OLD", "-", " FOR KEY SHARE OF s")}
  END IF;
  {_report_rows("NEW", "", " FOR KEY SHARE OF s")}
  RETURN NULL;
END $$;

CREATE FUNCTION review_flag_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM 1 FROM purchase_reports WHERE id = OLD.report_id FOR NO KEY UPDATE;
    {_flag_row("OLD", "-", " FOR KEY SHARE OF s")}
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM 1 FROM purchase_reports WHERE id = NEW.report_id FOR NO KEY UPDATE;
    {_flag_row("NEW", "", " FOR KEY SHARE OF s")}
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION review_stall_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM stalls WHERE id = NEW.id FOR UPDATE;
  {_stall_rows("OLD", "-")}
  {_stall_rows("NEW", "")}
  RETURN NULL;
END $$;

CREATE TRIGGER purchase_reports_review_insert AFTER INSERT ON purchase_reports
  FOR EACH ROW WHEN (NEW.flagged OR NEW.state = 'disputed')
  EXECUTE FUNCTION review_report_delta();

CREATE TRIGGER purchase_reports_review_update AFTER UPDATE OF state, flagged, stall_id
  ON purchase_reports FOR EACH ROW WHEN ({IN_QUEUE}) EXECUTE FUNCTION review_report_delta();

CREATE TRIGGER report_flags_review AFTER INSERT OR DELETE OR UPDATE OF report_id, rule
  ON report_flags FOR EACH ROW EXECUTE FUNCTION review_flag_delta();

CREATE TRIGGER stalls_review AFTER UPDATE OF kelurahan_id ON stalls
  FOR EACH ROW WHEN (OLD.kelurahan_id IS DISTINCT FROM NEW.kelurahan_id)
  EXECUTE FUNCTION review_stall_move();
"""

# SQLite has one writer at a time: nothing to lock.
SQLITE_DDL = [
    "CREATE TRIGGER purchase_reports_review_insert AFTER INSERT ON purchase_reports "
    f"WHEN NEW.flagged OR NEW.state = 'disputed' BEGIN {_report_rows('NEW', '')} END",
    "CREATE TRIGGER purchase_reports_review_update AFTER UPDATE OF state, flagged, stall_id "
    f"ON purchase_reports WHEN {IN_QUEUE.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    f"{_report_rows('OLD', '-')} {_report_rows('NEW', '')} END",
    f"CREATE TRIGGER report_flags_review_insert AFTER INSERT ON report_flags BEGIN "
    f"{_flag_row('NEW', '')} END",
    f"CREATE TRIGGER report_flags_review_delete AFTER DELETE ON report_flags BEGIN "
    f"{_flag_row('OLD', '-')} END",
    "CREATE TRIGGER report_flags_review_update AFTER UPDATE OF report_id, rule ON report_flags "
    f"BEGIN {_flag_row('OLD', '-')} {_flag_row('NEW', '')} END",
    "CREATE TRIGGER stalls_review AFTER UPDATE OF kelurahan_id ON stalls "
    "WHEN OLD.kelurahan_id IS NOT NEW.kelurahan_id BEGIN "
    f"{_stall_rows('OLD', '-')} {_stall_rows('NEW', '')} END",
]
SQLITE_TRIGGERS = (
    "purchase_reports_review_insert",
    "purchase_reports_review_update",
    "report_flags_review_insert",
    "report_flags_review_delete",
    "report_flags_review_update",
    "stalls_review",
)
# The open queue as it is now, grouped (also rollups.rebuild's query).
CURRENT_QUEUE = (
    "SELECT kelurahan_id, reason, count(*) FROM ("  # noqa: S608 (constant pieces)
    "SELECT s.kelurahan_id, f.rule AS reason FROM purchase_reports r "
    "JOIN stalls s ON s.id = r.stall_id JOIN report_flags f ON f.report_id = r.id "
    f"WHERE r.flagged AND r.state IN {OPEN} "
    "UNION ALL SELECT s.kelurahan_id, 'disputed' FROM purchase_reports r "
    "JOIN stalls s ON s.id = r.stall_id WHERE r.state = 'disputed'"
    ") AS queue GROUP BY kelurahan_id, reason"
)


def upgrade():
    op.create_table(
        "review_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kelurahan_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_deltas")),
    )
    op.create_table(
        "rollup_review",
        sa.Column("kelurahan_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kelurahan_id", "reason", name=op.f("pk_rollup_review")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Writes to the tables wait until this commits, so the count below is the queue.
        op.execute("LOCK TABLE purchase_reports, report_flags, stalls IN SHARE MODE")
        op.execute(PG_DDL)
    else:
        for statement in SQLITE_DDL:
            op.execute(statement)
    op.execute(f"INSERT INTO rollup_review (kelurahan_id, reason, count) {CURRENT_QUEUE}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER stalls_review ON stalls")
        op.execute("DROP TRIGGER report_flags_review ON report_flags")
        op.execute("DROP TRIGGER purchase_reports_review_update ON purchase_reports")
        op.execute("DROP TRIGGER purchase_reports_review_insert ON purchase_reports")
        op.execute("DROP FUNCTION review_stall_move()")
        op.execute("DROP FUNCTION review_flag_delta()")
        op.execute("DROP FUNCTION review_report_delta()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("rollup_review")
    op.drop_table("review_deltas")
