"""The database enforces what the code assumes, and the models and migrations agree.

Run on both backends (TEST_DATABASE=postgres and sqlite): the session's database is built by
the migrations, so an autogenerate diff against the models must be empty, CHECK constraints
included (compared by name with Alembic's plugin, which autogenerate leaves off by default).
"""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from promkm_qr import reference
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import (
    AsnProfile,
    Document,
    Job,
    JobChunk,
    PurchaseReport,
    QuotaRule,
    RollupDelta,
    Stall,
)
from tests.conftest import BACKEND, create_pg_database
from tests.factories import make_asn, make_report, make_stall
from tests.faults.conftest import other_app

PLUGINS = ["alembic.autogenerate.*", "alembic.ext.checkconstraint_byname"]


def test_the_migrated_database_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "autogenerate_plugins": PLUGINS}
        )
        assert compare_metadata(context, db.metadata) == []


def test_every_check_of_the_models_is_in_the_database(app):
    # The plugin compares by name; this makes sure there were constraints to compare.
    table = db.metadata.tables["purchase_reports"]
    assert len([c for c in table.constraints if isinstance(c, CheckConstraint)]) == 2
    inspector = db.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert declared <= found, table.name


def _refused(statement) -> None:
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(statement)
        db.session.flush()
    db.session.rollback()
    assert "ck_" in str(caught.value) or "CHECK constraint failed" in str(caught.value)


@pytest.mark.parametrize(
    "model, column",
    [(PurchaseReport, "state"), (Stall, "status"), (Job, "state"), (Document, "state")],
)
def test_an_unknown_state_is_refused(app, model, column):
    report = make_report(asn=make_asn(), stall=make_stall())
    document = Document(public_id="D1", kind="asn_receipt", subject="1", period="2026-10")
    db.session.add(document)
    job = create_job("ping")
    db.session.commit()
    row_id = {PurchaseReport: report.id, Stall: report.stall_id, Job: job.id}.get(
        model, document.id
    )
    _refused(update(model).where(model.id == row_id).values({column: "entah"}))
    assert getattr(db.session.get(model, row_id), column) != "entah"


@pytest.mark.parametrize("amount", [0, -5000])
def test_a_report_of_zero_or_negative_rupiah_is_refused(app, amount):
    report = make_report(asn=make_asn(), stall=make_stall())
    _refused(update(PurchaseReport).where(PurchaseReport.id == report.id).values(amount=amount))
    assert db.session.get(PurchaseReport, report.id).amount > 0


def test_a_negative_quota_or_tpp_is_refused(app):
    asn = make_asn()
    _refused(insert(QuotaRule).values(position_class="baru", kind="fixed", amount=-1))
    _refused(update(AsnProfile).where(AsnProfile.user_id == asn.id).values(tpp_amount=-1))


# Tables that migrations after 0011 create: their own indexes are not among those kept.
NEW_TABLES = ("user_sessions", "notifications", "webhook_deliveries")


def _schema_sql() -> list[str]:
    """SQLite's triggers and index definitions, which the table rebuilds must keep."""
    if db.engine.dialect.name != "sqlite":
        return []
    rows = db.session.execute(
        text(
            "SELECT sql, tbl_name FROM sqlite_master"
            " WHERE sql IS NOT NULL AND type IN ('index', 'trigger')"
        )
    )
    return sorted(sql for sql, table in rows if table not in NEW_TABLES)


def test_the_migration_keeps_rows_chunks_triggers_and_partial_indexes(session_env, tmp_path):
    if BACKEND == "postgres":
        url, drop = create_pg_database()
    else:
        url, drop = f"sqlite:///{tmp_path / 'before.sqlite'}", None
    try:
        with other_app({"SQLALCHEMY_DATABASE_URI": url}) as other, other.app_context():
            upgrade(revision="0011")
            before = _schema_sql()
            # Rows are made with today's models, so at head, then taken down to 0011 and back.
            upgrade()
            reference.load_regions(other.config["REGIONS_CSV"])
            reference.seed_defaults()
            job = create_job("posters")
            db.session.flush()
            db.session.add(JobChunk(job_id=job.id, index=0, items=1, storage_key="k"))
            make_report(asn=make_asn(), stall=make_stall(), state="disputed")
            db.session.commit()
            db.session.remove()
            downgrade(revision="0011")
            assert _schema_sql() == before
            assert db.session.scalar(select(func.count(JobChunk.id))) == 1
            db.session.remove()
            upgrade()
            assert _schema_sql() == before
            assert db.session.scalar(select(func.count(JobChunk.id))) == 1
            assert db.session.scalar(select(PurchaseReport.state)) == "disputed"
            deltas = db.session.scalar(select(func.count()).select_from(RollupDelta))
            make_report(asn=make_asn(), stall=make_stall())
            # The rollup triggers still write a delta row for a new report.
            assert db.session.scalar(select(func.count()).select_from(RollupDelta)) > deltas
            downgrade(revision="0011")
            assert _schema_sql() == before
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    finally:
        if drop:
            drop()
