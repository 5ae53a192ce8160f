"""Riwayat: an ASN's reports by WIB month, the month totals and progress toward the quota."""

from dataclasses import dataclass

from sqlalchemy import select

from promkm_qr.core.dates import month_bounds_utc, now_wib, to_wib
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, PurchaseReport
from promkm_qr.reference import get_setting
from promkm_qr.reports.quota import quota_amount, quota_rules


@dataclass(frozen=True)
class MonthSummary:
    """One month of an ASN's reports with what counts toward the quota."""

    year: int
    month: int
    reports: list[PurchaseReport]
    total: int  # rupiah in the counted states
    count: int
    quota: int

    @property
    def percent(self) -> int:
        """Progress toward the quota, capped at 100."""
        if not self.quota:
            return 100
        return min(100, self.total * 100 // self.quota)

    @property
    def remaining(self) -> int:
        """Rupiah still to spend this month to meet the quota."""
        return max(0, self.quota - self.total)


def monthly_quota(asn_id: int) -> int:
    """The ASN's monthly minimum from the rule of their position class."""
    profile = db.session.scalar(select(AsnProfile).where(AsnProfile.user_id == asn_id))
    if profile is None:
        return 0
    return quota_amount(quota_rules().get(profile.position_class), profile.tpp_amount)


def month_summary(asn_id: int, year: int, month: int) -> MonthSummary:
    """The ASN's reports purchased in a WIB calendar month, newest first, with the total."""
    start, end = month_bounds_utc(year, month)
    reports = db.session.scalars(
        select(PurchaseReport)
        .where(
            PurchaseReport.asn_id == asn_id,
            PurchaseReport.purchased_at >= start.replace(tzinfo=None),
            PurchaseReport.purchased_at < end.replace(tzinfo=None),
        )
        .order_by(PurchaseReport.purchased_at.desc(), PurchaseReport.id.desc())
    ).all()
    counted = set(get_setting("counted_states"))
    counted_reports = [r for r in reports if r.state in counted]
    return MonthSummary(
        year=year,
        month=month,
        reports=list(reports),
        total=sum(r.amount for r in counted_reports),
        count=len(counted_reports),
        quota=monthly_quota(asn_id),
    )


def current_month(asn_id: int) -> MonthSummary:
    """This WIB month's summary, for the start page."""
    now = now_wib()
    return month_summary(asn_id, now.year, now.month)


def months_with_reports(asn_id: int, limit: int = 12) -> list[tuple[int, int]]:
    """The WIB (year, month) pairs in which the ASN reported, newest first, plus this month."""
    now = now_wib()
    months = {(now.year, now.month)}
    for purchased_at in db.session.scalars(
        select(PurchaseReport.purchased_at).where(PurchaseReport.asn_id == asn_id)
    ):
        local = to_wib(purchased_at)
        months.add((local.year, local.month))
    return sorted(months, reverse=True)[:limit]
