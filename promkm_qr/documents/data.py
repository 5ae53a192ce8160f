"""Plain data for every document kind, built from SQL aggregates a chunk of subjects at a time.

Each builder takes a month and a list of subject ids and answers {subject: context} with a
handful of queries for the whole chunk, never one per report or per person: a month's batch
is ~27,000 documents and must not make ~27,000 round trips per table.
"""

from collections import defaultdict
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from promkm_qr.core.dates import month_bounds_utc, month_label
from promkm_qr.core.text import whole_number
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport
from promkm_qr.reference import get_setting
from promkm_qr.reports.states import STATE_LABELS, state_label


def parse_period(period: str) -> tuple[int, int]:
    """Split "2026-10" into (2026, 10), refusing anything else."""
    year, sep, month = period.partition("-")
    numbers = whole_number(year), whole_number(month)
    if not (sep and len(year) == 4 and len(month) == 2 and None not in numbers):
        raise ValueError(_l("Periode harus berbentuk TTTT-BB, bukan '%(period)s'.", period=period))
    if not 1 <= numbers[1] <= 12:
        raise ValueError(_l("Bulan harus 1 sampai 12, bukan %(month)s.", month=month))
    return numbers


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """The month's [start, end) as naive UTC datetimes, the storage convention."""
    start, end = month_bounds_utc(*parse_period(period))
    return start.replace(tzinfo=None), end.replace(tzinfo=None)


def period_label(period: str) -> str:
    """ "Oktober 2026" for "2026-10"."""
    return month_label(*parse_period(period))


def in_month(period: str):
    """SQL condition: the report was made in the month (WIB)."""
    start, end = period_bounds(period)
    return and_(PurchaseReport.purchased_at >= start, PurchaseReport.purchased_at < end)


def counted_states() -> list[str]:
    """The states whose amounts count toward quotas and totals, from the settings."""
    return list(get_setting("counted_states"))


def state_totals(pairs) -> list[dict]:
    """Count and sum per state, in workflow order, from (state, amount) pairs or aggregates."""
    totals = {state: {"count": 0, "amount": 0} for state in STATE_LABELS}
    for state, count, amount in pairs:
        totals[state]["count"] += count
        totals[state]["amount"] += amount
    return [
        {"state": s, "label": state_label(s), "count": t["count"], "amount": t["amount"]}
        for s, t in totals.items()
    ]


def counted_total(totals: list[dict], counted: list[str]) -> dict:
    """The count and amount of the counted states out of state_totals()."""
    rows = [t for t in totals if t["state"] in counted]
    return {"count": sum(t["count"] for t in rows), "amount": sum(t["amount"] for t in rows)}


def grouped_state_totals(key_column, keys: list, period: str, *joins) -> dict:
    """{key: state_totals} for reports of the month grouped by key_column, in one query."""
    query = select(
        key_column,
        PurchaseReport.state,
        func.count(PurchaseReport.id),
        func.coalesce(func.sum(PurchaseReport.amount), 0),
    ).select_from(PurchaseReport)
    for target, condition in joins:
        query = query.join(target, condition)
    query = query.where(in_month(period), key_column.in_(keys)).group_by(
        key_column, PurchaseReport.state
    )
    raw = defaultdict(list)
    for key, state, count, amount in db.session.execute(query):
        raw[key].append((state, count, int(amount)))
    return {key: state_totals(raw.get(key, [])) for key in keys}
