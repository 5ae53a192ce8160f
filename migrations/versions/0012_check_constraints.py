"""check constraints: the states of reports, stalls, jobs and documents, and amounts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:15:00

"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# (table, constraint, SQL), as the models declare them (promkm_qr/models, `one_of` and
# `at_least`); written out here so a later change of a model does not rewrite history.
CHECKS = [
    (
        "purchase_reports",
        "ck_purchase_reports_state",
        "state IN ('submitted', 'confirmed', 'disputed', 'verified', 'rejected', 'withdrawn')",
    ),
    ("purchase_reports", "ck_purchase_reports_amount", "amount >= 1"),
    ("stalls", "ck_stalls_status", "status IN ('pending', 'active', 'suspended')"),
    ("jobs", "ck_jobs_state", "state IN ('queued', 'running', 'done', 'failed')"),
    ("documents", "ck_documents_state", "state IN ('pending', 'queued', 'done', 'failed')"),
    ("quota_rules", "ck_quota_rules_amount", "amount >= 0"),
    ("asn_profiles", "ck_asn_profiles_tpp_amount", "tpp_amount >= 0"),
]


def _sqlite_triggers_and_indexes() -> list[str]:
    """The SQL of every trigger and of every explicit index of the tables (SQLite).

    Batch mode rebuilds a table as a copy (SQLite cannot add a CHECK to a table): the
    rollup triggers of migrations 0008-0010 go with the old table, and a partial index
    must keep its WHERE. They are dropped first (a trigger naming a table that is briefly
    missing would stop the rename) and made again from their own SQL afterwards.
    """
    tables = {table for table, _name, _sql in CHECKS}
    rows = op.get_bind().exec_driver_sql(
        "SELECT type, tbl_name, sql FROM sqlite_master"
        " WHERE sql IS NOT NULL AND type IN ('index', 'trigger') ORDER BY type, name"
    )
    return [sql for kind, table, sql in rows if kind == "trigger" or table in tables]


def _drop_all(statements: list[str]) -> None:
    for sql in statements:
        kind, name = sql.split()[1], sql.split()[2]
        if kind == "UNIQUE":  # CREATE UNIQUE INDEX name
            kind, name = "INDEX", sql.split()[3]
        op.execute(f"DROP {kind} IF EXISTS {name}")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    kept = _sqlite_triggers_and_indexes() if sqlite else []
    _drop_all(kept)
    for table in dict.fromkeys(table for table, _name, _sql in CHECKS):
        with op.batch_alter_table(table) as batch:
            for name, sql in ((n, s) for t, n, s in CHECKS if t == table):
                batch.create_check_constraint(op.f(name), sql)
    _drop_all(kept)  # the copies batch mode made of the indexes, if it made any
    for sql in kept:
        op.execute(sql)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    kept = _sqlite_triggers_and_indexes() if sqlite else []
    _drop_all(kept)
    for table in dict.fromkeys(table for table, _name, _sql in CHECKS):
        with op.batch_alter_table(table) as batch:
            for name in (n for t, n, _s in CHECKS if t == table):
                batch.drop_constraint(op.f(name), type_="check")
    _drop_all(kept)
    for sql in kept:
        op.execute(sql)
