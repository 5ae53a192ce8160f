"""City-wide aggregates anyone may see: totals by kelurahan and month, no names, no NIP."""

from datetime import date

from sqlalchemy import func, select

from promkm_qr.core.dates import month_bounds_utc, month_label, now_wib
from promkm_qr.dashboard.filters import wib_text
from promkm_qr.dashboard.queries import counted_states
from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan, Kelurahan, PurchaseReport, Stall


def recent_months(count: int) -> list[str]:
    """The last count WIB months as "YYYY-MM", oldest first, ending with this one."""
    today = now_wib().date()
    months = []
    for back in range(count - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        months.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return months


def city_totals(months: int = 6) -> dict:
    """Counted rupiah and reports per kelurahan and WIB month over the last months."""
    labels = recent_months(months)
    first = date.fromisoformat(labels[0] + "-01")
    lower = month_bounds_utc(first.year, first.month)[0].replace(tzinfo=None)
    month = wib_text(PurchaseReport.purchased_at, "month")
    query = (
        select(Stall.kelurahan_id, month, func.count(), func.sum(PurchaseReport.amount))
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .where(PurchaseReport.purchased_at >= lower, PurchaseReport.state.in_(counted_states()))
        .group_by(Stall.kelurahan_id, month)
    )
    cells = {(kel, m): (n, int(rp)) for kel, m, n, rp in db.session.execute(query)}
    regions = db.session.execute(
        select(Kelurahan.id, Kelurahan.name, Kecamatan.name)
        .join(Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id)
        .order_by(Kecamatan.code, Kelurahan.code)
    ).all()
    rows = [
        {
            "kelurahan": kel_name,
            "kecamatan": kec_name,
            "months": [cells.get((kel_id, m), (0, 0)) for m in labels],
        }
        for kel_id, kel_name, kec_name in regions
    ]
    month_totals = [
        (sum(r["months"][i][0] for r in rows), sum(r["months"][i][1] for r in rows))
        for i in range(len(labels))
    ]
    names = [month_label(int(m[:4]), int(m[5:])) for m in labels]
    return {"months": names, "rows": rows, "totals": month_totals, "counted": counted_states()}
