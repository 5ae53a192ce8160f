"""What a merchant sees of the sales recorded against their own stalls."""

import io
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from promkm_qr.core.cells import csv_writer
from promkm_qr.core.dates import month_bounds_utc, to_wib, wib_day_start
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Opd, PurchaseReport, Stall, User
from promkm_qr.reference import get_setting


def own_stalls(merchant_id: int) -> list[Stall]:
    """The merchant's stalls, by name."""
    return db.session.scalars(
        select(Stall).where(Stall.owner_id == merchant_id).order_by(Stall.name)
    ).all()


def stall_totals(
    stall_ids: list[int], year: int, month: int, now: datetime | None = None
) -> dict[int, dict]:
    """Today's and the month's counted sales per stall (counted states from the setting)."""
    month_start, month_end = (b.replace(tzinfo=None) for b in month_bounds_utc(year, month))
    day_start_utc = wib_day_start(now)
    r = PurchaseReport
    counted = r.state.in_(get_setting("counted_states"))
    rows = db.session.execute(
        select(
            r.stall_id,
            func.sum(case((r.purchased_at >= day_start_utc, r.amount), else_=0)),
            func.sum(r.amount),
        )
        .where(
            r.stall_id.in_(stall_ids),
            counted,
            r.purchased_at >= month_start,
            r.purchased_at < month_end,
        )
        .group_by(r.stall_id)
    )
    totals = {sid: {"today": 0, "month": 0} for sid in stall_ids}
    for stall_id, today_sum, month_sum in rows:
        totals[stall_id] = {"today": int(today_sum or 0), "month": int(month_sum or 0)}
    return totals


def month_reports(merchant_id: int, year: int, month: int) -> list[tuple]:
    """(report, ASN name, OPD name) of the month at the merchant's stalls, newest first."""
    start, end = (b.replace(tzinfo=None) for b in month_bounds_utc(year, month))
    return db.session.execute(
        select(PurchaseReport, User.name, Opd.name)
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .join(User, User.id == PurchaseReport.asn_id)
        .outerjoin(AsnProfile, AsnProfile.user_id == User.id)
        .outerjoin(Opd, Opd.id == PurchaseReport.opd_id)
        .where(
            Stall.owner_id == merchant_id,
            PurchaseReport.purchased_at >= start,
            PurchaseReport.purchased_at < end,
            PurchaseReport.state != "withdrawn",
        )
        .options(selectinload(PurchaseReport.evidence), selectinload(PurchaseReport.stall))
        .order_by(PurchaseReport.purchased_at.desc(), PurchaseReport.id.desc())
    ).all()


def month_csv(merchant_id: int, year: int, month: int) -> str:
    """The month's reports as CSV (semicolons, as Indonesian spreadsheets expect)."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";")
    writer.writerow(
        ["referensi", "waktu_wib", "lapak", "nominal", "barang", "asn", "opd", "status"]
    )
    for report, asn_name, opd_name in month_reports(merchant_id, year, month):
        writer.writerow(
            [
                report.reference,
                f"{to_wib(report.purchased_at):%Y-%m-%d %H:%M}",
                report.stall.code,
                report.amount,
                report.description or report.goods_category,
                asn_name,
                opd_name or "",
                report.state,
            ]
        )
    return out.getvalue()
