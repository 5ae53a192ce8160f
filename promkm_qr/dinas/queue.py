"""The review queue's query: reports needing a dinas decision, filtered and in scope."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from promkm_qr.core.dates import month_bounds_utc
from promkm_qr.core.text import whole_number
from promkm_qr.dashboard.queries import OPEN_REVIEW
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportFlag, Stall, User

# A module import: reports.review imports dinas.scope, which loads this package.
from promkm_qr.reports import review
from promkm_qr.reports.rules import FLAG_LABELS
from promkm_qr.reports.states import STATE_LABELS

PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilter:
    """The queue's filters as given in the query string; empty means any."""

    kelurahan: int | None = None
    opd: int | None = None
    flag: str = ""
    state: str = ""
    month: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "QueueFilter":
        """Read the filters, ignoring values that are not valid choices."""
        number = lambda key: whole_number(args.get(key, ""))  # noqa: E731
        month = args.get("bulan", "")
        digits = month.replace("-", "")
        valid_month = len(month) == 7 and month[4] == "-" and whole_number(digits) is not None
        return cls(
            kelurahan=number("kelurahan"),
            opd=number("opd"),
            flag=args.get("flag", "") if args.get("flag") in FLAG_LABELS else "",
            state=args.get("status", "") if args.get("status") in STATE_LABELS else "",
            month=month if valid_month and 1 <= int(month[5:]) <= 12 else "",
            page=max(1, number("halaman") or 1),
        )


def _filtered(query, f: QueueFilter):
    """Apply the filters to a scoped report query."""
    # By default the open queue: flagged or disputed reports not yet decided.
    query = query.where(PurchaseReport.state == f.state if f.state else OPEN_REVIEW)
    if f.kelurahan:
        query = query.where(Stall.kelurahan_id == f.kelurahan)
    if f.opd:
        query = query.where(PurchaseReport.opd_id == f.opd)
    if f.flag:
        query = query.where(
            select(ReportFlag.id)
            .where(ReportFlag.report_id == PurchaseReport.id, ReportFlag.rule == f.flag)
            .exists()
        )
    if f.month:
        start, end = month_bounds_utc(int(f.month[:4]), int(f.month[5:]))
        query = query.where(
            PurchaseReport.purchased_at >= start.replace(tzinfo=None),
            PurchaseReport.purchased_at < end.replace(tzinfo=None),
        )
    return query


def queue_page(f: QueueFilter, staff: User) -> dict:
    """One page of the queue (oldest first) and the total it was cut from."""
    base = _filtered(review.scoped_reports(select(PurchaseReport), staff), f)
    total = db.session.scalar(
        _filtered(review.scoped_reports(select(func.count(PurchaseReport.id)), staff), f)
    )
    reports = db.session.scalars(
        base.options(
            selectinload(PurchaseReport.flags),
            selectinload(PurchaseReport.stall),
            selectinload(PurchaseReport.asn),
            selectinload(PurchaseReport.transitions),
        )
        .order_by(PurchaseReport.purchased_at, PurchaseReport.id)
        .limit(PAGE_SIZE)
        .offset((f.page - 1) * PAGE_SIZE)
    ).all()
    return {"reports": reports, "total": total, "pages": max(1, -(-total // PAGE_SIZE))}
