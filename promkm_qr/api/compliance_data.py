"""Quota compliance per ASN per month for payroll: the dashboard's figures, paged by user id.

Built on promkm_qr/dashboard/compliance.py: roster_spend, so every total here equals the
dashboard's and the ASN export's for the same month.
"""

from datetime import timedelta

from sqlalchemy import case, func, select

from promkm_qr.api.paging import month_filters
from promkm_qr.core.dates import now_wib
from promkm_qr.dashboard import rollups
from promkm_qr.dashboard.compliance import roster_spend
from promkm_qr.dashboard.filters import Filters
from promkm_qr.dashboard.queries import run
from promkm_qr.models import AsnProfile, User
from promkm_qr.models.report import REPORT_STATES
from promkm_qr.reference import get_setting


def month_closed(f: Filters) -> bool:
    """Whether the month's figures can no longer change by the rules: the days a report may
    be filed late and the days a merchant has to confirm have both passed since its end."""
    grace = int(get_setting("report_max_age_days")) + int(get_setting("confirm_within_days"))
    return now_wib().date() > f.end + timedelta(days=grace)


def month_closed_text(month: str) -> bool:
    """month_closed for a month given as YYYY-MM."""
    return month_closed(month_filters(month))


def month_ahead(month: str) -> bool:
    """Whether a month given as YYYY-MM has not begun yet (WIB): nothing can be in it."""
    return month_filters(month).start > now_wib().date()


def asn_page(
    month: str, *, opd_id: int | None, nip: str | None, after: int | None, limit: int
) -> tuple[list[dict], int | None]:
    """Up to `limit` rostered ASN after user id `after`, and the id to continue after."""
    f = month_filters(month)
    # The page's id range first (an index scan of the roster), so that spend and state
    # counts are summed for those ASN only, not for the whole city on every page.
    span = _page_span(opd_id, nip, after, limit)
    if span is None:
        return [], None
    query = _compliance(f, opd_id, nip, span).limit(limit + 1)
    if after is not None:
        query = query.where(User.id > after)
    rows = run(query).all()
    closed = month_closed(f)
    items = [_asn_row(r, month, closed) for r in rows[:limit]]
    return items, (items[-1]["user_id"] if len(rows) > limit else None)


def asn_month(month: str, opd_id: int | None) -> list[dict]:
    """Every rostered ASN's month (of one OPD when given) by user id, in one statement."""
    f = month_filters(month)
    closed = month_closed(f)
    return [_asn_row(r, month, closed) for r in run(_compliance(f, opd_id, None))]


def _compliance(f: Filters, opd_id: int | None, nip: str | None, span=None):
    """The compliance rows by user id: spend, quota and state counts (of `span` only)."""
    counts = rollups.state_counts(rollups.ASN_MONTHS, f, "asn_id", span)
    query = (
        roster_spend(f, span)
        .add_columns(*(counts.c[s] for s in REPORT_STATES))
        .outerjoin(counts, counts.c.asn_id == User.id)
        .order_by(User.id)
    )
    if opd_id is not None:
        query = query.where(AsnProfile.opd_id == opd_id)
    if nip is not None:
        query = query.where(User.nip == nip)
    return query


def _page_span(
    opd_id: int | None, nip: str | None, after: int | None, limit: int
) -> tuple[int, int] | None:
    """The lowest and highest user id of the page's rostered ASN (None: the page is empty)."""
    ids = select(AsnProfile.user_id).join(User, User.id == AsnProfile.user_id)
    ids = ids.where(AsnProfile.on_roster.is_(True))
    if opd_id is not None:
        ids = ids.where(AsnProfile.opd_id == opd_id)
    if nip is not None:
        ids = ids.where(User.nip == nip)
    if after is not None:
        ids = ids.where(AsnProfile.user_id > after)
    page = ids.order_by(AsnProfile.user_id).limit(limit + 1).subquery()
    low, high = run(select(func.min(page.c.user_id), func.max(page.c.user_id))).one()
    return None if low is None else (low, high)


def _asn_row(r, month: str, closed: bool) -> dict:
    """One ASN's month as the API answers it."""
    quota, amount = int(r.quota), int(r.rp)
    return {
        "user_id": r.id,
        "nip": r.nip,
        "name": r.name,
        "opd_id": r.opd_id,
        "opd": r.opd,
        "position_class": r.position_class,
        "month": month,
        "quota": quota,
        "counted_count": int(r.n),
        "counted_total": amount,
        "shortfall": max(0, quota - amount),
        "met": bool(r.met),
        "state_counts": {s: int(getattr(r, s) or 0) for s in REPORT_STATES},
        "month_closed": closed,
    }


def opd_totals(month: str, opd_id: int | None) -> dict:
    """Per OPD for a month: ASN on the roster, how many met the quota, and rupiah sums."""
    f = month_filters(month)
    c = roster_spend(f).subquery().c
    shortfall = case((c.quota > c.rp, c.quota - c.rp), else_=0)
    query = (
        select(
            c.opd_id,
            func.max(c.opd).label("opd"),
            func.count().label("asn"),
            func.sum(c.met).label("met"),
            func.sum(c.quota).label("quota"),
            func.sum(c.rp).label("rp"),
            func.sum(shortfall).label("shortfall"),
        )
        .group_by(c.opd_id)
        .order_by(c.opd_id)
    )
    if opd_id is not None:
        query = query.where(c.opd_id == opd_id)
    items = [
        {
            "opd_id": r.opd_id,
            "opd": r.opd,
            "asn_count": int(r.asn),
            "met_count": int(r.met),
            "below_count": int(r.asn) - int(r.met),
            "quota_total": int(r.quota),
            "counted_total": int(r.rp),
            "shortfall_total": int(r.shortfall),
        }
        for r in run(query)
    ]
    return {"month": month, "month_closed": month_closed(f), "items": items}
