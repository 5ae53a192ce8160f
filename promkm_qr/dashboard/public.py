"""City-wide aggregates anyone may see: totals by kelurahan and month, no names, no NIP."""

from datetime import date, timedelta

from sqlalchemy import func, select

from promkm_qr.core.dates import month_label, now_wib
from promkm_qr.dashboard import rollups
from promkm_qr.dashboard.filters import Filters
from promkm_qr.dashboard.queries import counted_states
from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan, Kelurahan


def recent_months(count: int) -> list[str]:
    """The last count WIB months as "YYYY-MM", oldest first, ending with this one."""
    today = now_wib().date()
    months = []
    for back in range(count - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        months.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return months


def city_totals(months: int = 6, locale: str = "id") -> dict:
    """Counted rupiah and reports per kelurahan and WIB month over the last months (rollups)."""
    labels = recent_months(months)
    first = date.fromisoformat(labels[0] + "-01")
    last = date.fromisoformat(labels[-1] + "-01") + timedelta(days=31)
    period = Filters(first, last.replace(day=1) - timedelta(days=1))
    facts = rollups.facts(rollups.AREA_DAYS, period, ("kelurahan_id", "day"), counted_states())
    sums = select(
        facts.c.kelurahan_id, facts.c.day, func.sum(facts.c["count"]), func.sum(facts.c.amount)
    ).group_by(facts.c.kelurahan_id, facts.c.day)
    cells: dict[tuple[int, str], tuple[int, int]] = {}
    for kel, day, n, rp in db.session.execute(sums):
        key = (kel, str(day)[:7])  # a date, or its ISO text on SQLite
        count, amount = cells.get(key, (0, 0))
        cells[key] = (count + int(n), amount + int(rp))
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
    names = [month_label(int(m[:4]), int(m[5:]), locale) for m in labels]
    return {"months": names, "rows": rows, "totals": month_totals, "counted": counted_states()}
