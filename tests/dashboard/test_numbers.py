"""Dashboard numbers equal sums computed directly with plain SQL over the same data."""

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import text

from promkm_qr import demo
from promkm_qr.dashboard import compliance, queries
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from tests.conftest import login
from tests.dashboard.conftest import MARCH
from tests.factories import make_staff

PERIOD = (
    "r.purchased_at >= :lo AND r.purchased_at < :hi "
    "AND r.state IN ('submitted', 'confirmed', 'verified')"
)
JOIN_AREA = (
    "JOIN stalls s ON s.id = r.stall_id JOIN kelurahan l ON l.id = s.kelurahan_id "
    "JOIN kecamatan k ON k.id = l.kecamatan_id"
)


def _sql(statement: str, **params):
    """Rows of a plain SQL statement."""
    return db.session.execute(text(statement), params).all()


def _counted(columns: str, joins: str = "", group: str = "", **bounds):
    """Rows of SELECT columns over the counted reports of the period (constant SQL pieces)."""
    statement = f"SELECT {columns} FROM purchase_reports r {joins} WHERE {PERIOD} {group}"  # noqa: S608
    return _sql(statement, **bounds)


def test_hand_checked_month_with_wib_edges(client, city):
    f = Filters(date(2026, 3, 1), date(2026, 3, 31))
    totals = queries.totals(f)
    # 50k verified (06:00 WIB on 1 March) + 25k confirmed + 70k and 15k submitted; the 99k
    # report is 00:30 WIB on 1 April, the rejected and disputed ones do not count.
    assert totals["amount"] == 160_000 and totals["count"] == 4
    assert totals["confirmed_amount"] == 25_000 and totals["verified_amount"] == 50_000
    days = {row["label"]: row["amount"] for row in queries.by_day(f)}
    assert days["2026-03-01"] == 50_000 and days["2026-03-31"] == 15_000
    assert queries.stall_panels(f)[1]["count"] == 1
    make_staff("viewer", username="lihat")
    login(client, "dinas", "lihat")
    html = client.get("/dinas/dasbor", query_string=MARCH).get_data(as_text=True)
    assert "Rp160.000" in html and "Rp25.000" in html and "Rp50.000" in html


def test_every_panel_matches_plain_sql_on_demo_data(app):
    demo.build_demo(stalls=60, asn=40, months=2, seed=11)
    start, end = date.today() - timedelta(days=40), date.today()
    f = Filters(start, end)
    lower = datetime.combine(start, datetime.min.time()) - timedelta(hours=7)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time()) - timedelta(hours=7)
    bounds = {"lo": lower, "hi": upper}
    count, amount = _counted("COUNT(*), SUM(r.amount)", **bounds)[0]
    totals = queries.totals(f)
    assert (totals["count"], totals["amount"]) == (count, amount) and count > 50
    (verified,) = _sql(
        "SELECT SUM(amount) FROM purchase_reports r WHERE r.purchased_at >= :lo AND "
        "r.purchased_at < :hi AND r.state = 'verified'",
        **bounds,
    )[0]
    assert totals["verified_amount"] == verified

    by_kec = _counted("k.name, SUM(r.amount)", JOIN_AREA, "GROUP BY k.name", **bounds)
    assert {
        r["label"]: r["amount"]
        for r in queries.by_kecamatan(queries.by_kelurahan(f))
        if r["amount"]
    } == dict(by_kec)

    by_kel = _counted("l.name, SUM(r.amount)", JOIN_AREA, "GROUP BY l.name", **bounds)
    assert {r["label"]: r["amount"] for r in queries.by_kelurahan(f) if r["amount"]} == dict(by_kel)

    by_opd = _counted(
        "o.name, SUM(r.amount), COUNT(DISTINCT r.asn_id)",
        "JOIN opd o ON o.id = r.opd_id",
        "GROUP BY o.name",
        **bounds,
    )
    assert {
        r["label"]: (r["amount"], r["asn_reporting"]) for r in queries.by_opd(f) if r["count"]
    } == {name: (rp, n) for name, rp, n in by_opd}

    by_cat = _counted(
        "c.name, SUM(r.amount)",
        "JOIN stalls s ON s.id = r.stall_id JOIN categories c ON c.id = s.category_id",
        "GROUP BY c.name",
        **bounds,
    )
    assert {r["label"]: r["amount"] for r in queries.by_category(f)} == dict(by_cat)

    per_day = Counter()
    for at, rp in _counted("r.purchased_at, r.amount", **bounds):
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        per_day[(at + timedelta(hours=7)).date().isoformat()] += rp
    assert {r["label"]: r["amount"] for r in queries.by_day(f) if r["amount"]} == dict(per_day)

    spend = dict(_counted("r.asn_id, SUM(r.amount)", group="GROUP BY r.asn_id", **bounds))
    nips = dict(_sql("SELECT nip, id FROM users WHERE role = 'asn'"))
    assert {r["nip"]: r["amount"] for r in compliance.asn_compliance(f) if r["amount"]} == {
        nip: spend[uid] for nip, uid in nips.items() if uid in spend
    }
