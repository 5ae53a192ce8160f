"""Keeping and reading the exact rollups (see promkm_qr/models/rollup.py for the design).

`facts` is what the panels aggregate: for a period, an area and a set of states, rows of
(keys..., count, amount) taken from a rollup plus the pending deltas, or straight from the
reports when the rollup's grain does not fit the period. `fold` moves pending deltas into the
rollups; `rebuild` recomputes every rollup from the reports.
"""

from dataclasses import dataclass

from sqlalchemy import Table, and_, case, exists, func, literal, select, text, union_all

from promkm_qr.dashboard.filters import Filters, wib_text
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, RollupDelta, Stall
from promkm_qr.models.report import OPEN_STATES_SQL, REPORT_STATES
from promkm_qr.models.rollup import (
    rollup_area_days,
    rollup_asn_area_months,
    rollup_asn_months,
    rollup_stall_months,
)

R = PurchaseReport
DELTAS = RollupDelta.__table__
FOLD_LOCK = 7_000_008  # pg advisory lock: one fold at a time
# The open review queue per kelurahan and reason, counted from the reports (as migration 0009).
OPEN_QUEUE = (
    "SELECT kelurahan_id, reason, count(*) FROM ("  # noqa: S608 (constant pieces)
    "SELECT s.kelurahan_id, f.rule AS reason FROM purchase_reports r "
    "JOIN stalls s ON s.id = r.stall_id JOIN report_flags f ON f.report_id = r.id "
    f"WHERE r.flagged AND r.state IN {OPEN_STATES_SQL} "
    "UNION ALL SELECT s.kelurahan_id, 'disputed' FROM purchase_reports r "
    "JOIN stalls s ON s.id = r.stall_id WHERE r.state = 'disputed'"
    ") AS queue GROUP BY kelurahan_id, reason"
)


@dataclass(frozen=True)
class Rollup:
    """A rollup table: its time grain ("day" or "month") and its key columns after it."""

    table: Table
    grain: str
    keys: tuple[str, ...]


AREA_DAYS = Rollup(rollup_area_days, "day", ("kelurahan_id", "category_id"))
STALL_MONTHS = Rollup(rollup_stall_months, "month", ("stall_id",))
ASN_MONTHS = Rollup(rollup_asn_months, "month", ("asn_id", "opd_id"))
ASN_AREA_MONTHS = Rollup(rollup_asn_area_months, "month", ("kelurahan_id", "asn_id", "opd_id"))
ROLLUPS = (AREA_DAYS, STALL_MONTHS, ASN_MONTHS, ASN_AREA_MONTHS)
MEASURES = tuple(f"{m}_{s}" for s in REPORT_STATES for m in ("count", "amount"))


def _month_sql(day: str, pg: bool) -> str:
    """SQL for the first day of the month of a date column."""
    return f"date_trunc('month', {day})::date" if pg else f"date({day}, 'start of month')"


def _report_rows_sql(pg: bool) -> str:
    """The reports as delta-shaped rows (one per report, count 1), for a rebuild."""
    day = (
        "(r.purchased_at + interval '7 hours')::date" if pg else "date(r.purchased_at, '+7 hours')"
    )
    return (
        f"(SELECT {day} AS day, s.kelurahan_id, coalesce(s.category_id, 0) AS category_id, "  # noqa: S608
        "r.stall_id, r.asn_id, coalesce(r.opd_id, 0) AS opd_id, r.state, 1 AS count, r.amount "
        "FROM purchase_reports r JOIN stalls s ON s.id = r.stall_id) AS rows WHERE true"
    )


def _add_sql(rollup: Rollup, source: str, pg: bool, ordered: bool = False) -> str:
    """INSERT adding the grouped delta-shaped rows of source into a rollup (an upsert).

    ordered: insert in key order, which fills an empty table's index page by page (rebuild).
    """
    period = "day" if rollup.grain == "day" else _month_sql("day", pg)
    group = ", ".join((period, *rollup.keys))
    pk = ", ".join((rollup.grain, *rollup.keys))
    sums = ", ".join(
        f"sum(CASE WHEN state = '{s}' THEN {m} ELSE 0 END)"
        for s in REPORT_STATES
        for m in ("count", "amount")
    )
    name = rollup.table.name
    added = ", ".join(f"{c} = {name}.{c} + excluded.{c}" for c in MEASURES)
    # SQLite needs the WHERE in source to tell the upsert's ON from a join's.
    return (
        f"INSERT INTO {name} ({pk}, {', '.join(MEASURES)}) "  # noqa: S608 (constant pieces)
        f"SELECT {group}, {sums} FROM {source} GROUP BY {group} "
        f"{f'ORDER BY {group} ' if ordered else ''}"
        f"ON CONFLICT ({pk}) DO UPDATE SET {added}"
    )


def fold() -> int:
    """Move the pending deltas into the rollups; returns how many delta rows were folded.

    PostgreSQL: one snapshot (REPEATABLE READ) for reading, adding and deleting the deltas, so
    a delta committed meanwhile is neither added nor deleted; a fold already running makes
    this one return at once. SQLite: the first statement takes the single write lock.
    """
    engine = db.engine
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if pg:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if pg:
                if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": FOLD_LOCK}):
                    return 0
            else:
                conn.execute(text("DELETE FROM rollup_deltas WHERE id < 0"))
            folded = _fold_review(conn)
            top = conn.scalar(text("SELECT max(id) FROM rollup_deltas"))
            if top is None:
                return folded
            for rollup in ROLLUPS:
                sql = _add_sql(rollup, "rollup_deltas WHERE id <= :top", pg)
                conn.execute(text(sql), {"top": top})
            deleted = conn.execute(text("DELETE FROM rollup_deltas WHERE id <= :top"), {"top": top})
            return folded + deleted.rowcount


def _fold_review(conn) -> int:
    """Add the pending review-queue deltas into rollup_review and delete them (in fold's
    transaction); returns how many were folded. Reasons whose count reaches zero go."""
    top = conn.scalar(text("SELECT max(id) FROM review_deltas"))
    if top is None:
        return 0
    conn.execute(
        text(
            "INSERT INTO rollup_review (kelurahan_id, reason, count) "
            "SELECT kelurahan_id, reason, sum(count) FROM review_deltas WHERE id <= :top "
            "GROUP BY kelurahan_id, reason ON CONFLICT (kelurahan_id, reason) "
            "DO UPDATE SET count = rollup_review.count + excluded.count"
        ),
        {"top": top},
    )
    conn.execute(text("DELETE FROM rollup_review WHERE count = 0"))
    return conn.execute(text("DELETE FROM review_deltas WHERE id <= :top"), {"top": top}).rowcount


def rebuild() -> None:
    """Recompute every rollup from the reports (after a manual repair, or a bulk load).

    Report and stall writes wait meanwhile (PostgreSQL SHARE lock; SQLite's write lock), so
    no change falls between the recount and the emptied deltas.
    """
    pg = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as conn:
        if pg:
            conn.execute(text("LOCK TABLE purchase_reports, report_flags, stalls IN SHARE MODE"))
        conn.execute(text("DELETE FROM rollup_deltas"))
        for rollup in ROLLUPS:
            conn.execute(text(f"DELETE FROM {rollup.table.name}"))  # noqa: S608 (constant)
            conn.execute(text(_add_sql(rollup, _report_rows_sql(pg), pg, ordered=True)))
        conn.execute(text("DELETE FROM review_deltas"))
        conn.execute(text("DELETE FROM rollup_review"))
        conn.execute(text(f"INSERT INTO rollup_review (kelurahan_id, reason, count) {OPEN_QUEUE}"))


def _in_area(table, f: Filters, column: str):
    """The scope condition on a table by its kelurahan column, or by its stall's kelurahan."""
    if f.kelurahan_ids is None:
        return literal(True)
    if column == "kelurahan_id":
        return table.c.kelurahan_id.in_(f.kelurahan_ids)
    return table.c.stall_id.in_(select(Stall.id).where(Stall.kelurahan_id.in_(f.kelurahan_ids)))


def _area_column(rollup: Rollup) -> str:
    """The column a rollup is scoped by: its kelurahan, or else its stall's kelurahan."""
    return "kelurahan_id" if "kelurahan_id" in rollup.keys else "stall_id"


def _state_sums(table, states):
    """The (count, amount) expressions summing a rollup row's columns of the given states."""
    zero = literal(0)
    count = sum((table.c[f"count_{s}"] for s in states), zero)
    amount = sum((table.c[f"amount_{s}"] for s in states), zero)
    return count, amount


def _pending_in(rollup: Rollup, f: Filters, states):
    """The conditions picking the pending deltas of the period, states and area."""
    return (
        DELTAS.c.day >= f.start,
        DELTAS.c.day <= f.end,
        DELTAS.c.state.in_(states),
        _in_area(DELTAS, f, _area_column(rollup)),
    )


def facts(rollup: Rollup, f: Filters, keys: tuple[str, ...], states):
    """Rows (keys..., count, amount) of the given states over the period and area (a subquery).

    keys are among the rollup's keys, plus "day" for the daily rollup. A monthly rollup serves
    periods of whole months; other periods read the reports.
    """
    if rollup.grain == "month" and not f.whole_months:
        return _live(f, keys, states)
    table = rollup.table
    period = table.c[rollup.grain]
    if rollup.grain == "day":
        in_period = (period >= f.start) & (period <= f.end)
    else:
        # The months listed, not a range: the key's next column (a kelurahan) then narrows
        # the index scan too, instead of filtering every row of the month.
        in_period = period.in_(_months(f))
    count, amount = _state_sums(table, states)
    stored = select(*(table.c[k] for k in keys), count.label("count"), amount.label("amount"))
    stored = stored.where(in_period, _in_area(table, f, _area_column(rollup)))
    pending = select(*(DELTAS.c[k] for k in keys), DELTAS.c["count"], DELTAS.c.amount)
    return union_all(stored, pending.where(*_pending_in(rollup, f, states))).subquery()


def state_counts(rollup: Rollup, f: Filters, key: str, between: tuple[int, int] | None = None):
    """Per key, the number of reports in each state over the period's whole months: a
    subquery with one column per state (the API's per-state counts), for keys `between`
    (lowest, highest) when given."""
    table = rollup.table
    stored = select(table.c[key], *(table.c[f"count_{s}"].label(s) for s in REPORT_STATES))
    stored = stored.where(table.c[rollup.grain].in_(_months(f)))
    in_state = (case((DELTAS.c.state == s, DELTAS.c["count"]), else_=0) for s in REPORT_STATES)
    pending = select(
        DELTAS.c[key], *(n.label(s) for n, s in zip(in_state, REPORT_STATES, strict=True))
    )
    rows = union_all(stored, pending.where(*_pending_in(rollup, f, REPORT_STATES))).subquery()
    sums = (func.sum(rows.c[s]).label(s) for s in REPORT_STATES)
    query = select(rows.c[key], *sums).group_by(rows.c[key])
    if between is not None:
        query = query.where(rows.c[key].between(*between))
    return query.subquery()


def _months(f: Filters) -> list:
    """The first day of every month the period touches."""
    first = f.start.replace(day=1)
    return [
        first.replace(
            year=first.year + (first.month - 1 + n) // 12, month=(first.month - 1 + n) % 12 + 1
        )
        for n in range(f.months)
    ]


def totals_by_key(rollup: Rollup, f: Filters, states):
    """Per full key of a monthly rollup: (keys..., n, rp) over the period, a subquery.

    For one calendar month each key has at most one stored row, so instead of grouping every
    row of the month, the few pending deltas are grouped and added to it (keys found only in
    the deltas are appended). Other periods group the facts.
    """
    keys = rollup.keys
    if not (f.whole_months and f.months == 1):
        rows = facts(rollup, f, keys, states)
        columns = [rows.c[k] for k in keys]
        n, rp = func.sum(rows.c["count"]), func.sum(rows.c.amount)
        return select(*columns, n.label("n"), rp.label("rp")).group_by(*columns).subquery()
    table = rollup.table
    pending = select(
        *(DELTAS.c[k] for k in keys),
        func.sum(DELTAS.c["count"]).label("n"),
        func.sum(DELTAS.c.amount).label("rp"),
    ).where(*_pending_in(rollup, f, states))
    # A CTE: read twice below (added to stored rows, and keys only pending), grouped once.
    pending = pending.group_by(*(DELTAS.c[k] for k in keys)).cte(f"pending_{table.name}")
    same_key = and_(*(pending.c[k] == table.c[k] for k in keys))
    count, amount = _state_sums(table, states)
    count, amount = count + func.coalesce(pending.c.n, 0), amount + func.coalesce(pending.c.rp, 0)
    month = table.c[rollup.grain] == f.start
    stored = (
        select(*(table.c[k] for k in keys), count.label("n"), amount.label("rp"))
        .select_from(table.outerjoin(pending, same_key))
        .where(month, _in_area(table, f, _area_column(rollup)))
    )
    only_pending = select(*(pending.c[k] for k in keys), pending.c.n, pending.c.rp).where(
        ~exists().where(month, same_key)
    )
    return union_all(stored, only_pending).subquery()


def _live(f: Filters, keys: tuple[str, ...], states):
    """The same rows straight from the reports, one per report."""
    lower, upper = f.utc_bounds
    source = {
        "day": wib_text(R.purchased_at, "day"),
        "kelurahan_id": Stall.kelurahan_id,
        "category_id": func.coalesce(Stall.category_id, 0),
        "stall_id": R.stall_id,
        "asn_id": R.asn_id,
        "opd_id": func.coalesce(R.opd_id, 0),
    }
    query = (
        select(*(source[k].label(k) for k in keys), literal(1).label("count"), R.amount)
        .select_from(R)
        .join(Stall, Stall.id == R.stall_id)
        .where(and_(R.purchased_at >= lower, R.purchased_at < upper, R.state.in_(states)))
    )
    if f.kelurahan_ids is not None:
        query = query.where(Stall.kelurahan_id.in_(f.kelurahan_ids))
    return query.subquery()
