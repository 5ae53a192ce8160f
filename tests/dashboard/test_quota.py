"""The quota panel computed in SQL equals the per-ASN Python computation it replaced."""

from datetime import date, datetime

from sqlalchemy import select, text

from promkm_qr.dashboard import compliance
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, QuotaRule
from promkm_qr.reports.quota import quota_amount, quota_rules
from tests.conftest import login
from tests.factories import make_asn, make_opd, make_report, make_staff, make_stall

COUNTED = ("submitted", "confirmed", "verified")


def _rules() -> None:
    """Rules of both kinds: fixed, a TPP share above or below its floor, a share without a
    percentage (the fixed amount applies) and one large enough to overflow a 32-bit product."""
    rules = {r.position_class: r for r in db.session.scalars(select(QuotaRule))}
    rules["eselon-iv"].kind, rules["eselon-iv"].tpp_share_pct = "tpp_share", 10
    rules["eselon-iv"].amount = 75_000
    rules["eselon-iii"].kind, rules["eselon-iii"].tpp_share_pct = "tpp_share", None
    rules["kepala-opd"].kind, rules["kepala-opd"].tpp_share_pct = "tpp_share", 60
    rules["eselon-ii"].kind, rules["eselon-ii"].tpp_share_pct = "tpp_share", 0
    db.session.commit()


def _roster() -> None:
    """ASN in three OPD with every rule kind, TPP missing, small and large, one position
    without a rule, one ASN off the roster and one without an OPD; spend over two months."""
    opds = [make_opd(f"Q{i}", name) for i, name in enumerate(("Dinas A", "Dinas B", "Dinas C"))]
    stall = make_stall(name="Warung Kuota")
    people = [
        ("pelaksana", None), ("pelaksana", 9_000_000), ("eselon-iv", None),
        ("eselon-iv", 500_000), ("eselon-iv", 2_000_000), ("eselon-iii", 5_000_000),
        ("kepala-opd", 40_000_000), ("kepala-opd", 100_000), ("eselon-ii", 8_000_000),
        ("tanpa-aturan", 1_000_000),
    ]  # fmt: skip
    spends = [0, 50_000, 60_000, 75_000, 150_000, 200_000, 0, 90_000, 199_999, 10_000]
    for n, ((position, tpp), spend) in enumerate(zip(people * 3, spends * 3, strict=True)):
        asn = make_asn(name=f"ASN {n:02d}", opd=opds[n % 3], position=position, tpp_amount=tpp)
        if spend:
            # Half in March, half in April; a rejected report never counts.
            make_report(asn, stall, spend // 2, datetime(2026, 3, 10, 3), "confirmed")
            make_report(asn, stall, spend - spend // 2, datetime(2026, 4, 2, 3), "verified")
            make_report(asn, stall, 1_000_000, datetime(2026, 3, 11, 3), "rejected")
    off = make_asn(name="ASN pensiun", opd=opds[0])
    no_opd = make_asn(name="ASN tanpa OPD", position="eselon-iv", tpp_amount=900_000)
    for profile in db.session.scalars(select(AsnProfile)):
        if profile.user_id == off.id:
            profile.on_roster = False
        if profile.user_id == no_opd.id:
            profile.opd_id = None
    db.session.commit()


def _python(f: Filters) -> list[dict]:
    """The former computation: roster rows from SQL, quota and comparison in Python."""
    lower, upper = f.utc_bounds
    spent = dict(
        db.session.execute(
            text(
                "SELECT asn_id, SUM(amount) FROM purchase_reports WHERE purchased_at >= :lo "
                "AND purchased_at < :hi AND state IN ('submitted', 'confirmed', 'verified') "
                "GROUP BY asn_id"
            ),
            {"lo": lower, "hi": upper},
        ).all()
    )
    rows = db.session.execute(
        text(
            "SELECT u.id, u.nip, o.name, p.opd_id, p.position_class, p.tpp_amount "
            "FROM asn_profiles p JOIN users u ON u.id = p.user_id "
            "LEFT JOIN opd o ON o.id = p.opd_id WHERE p.on_roster ORDER BY u.name"
        )
    ).all()
    rules = quota_rules()
    out = []
    for user_id, nip, opd, opd_id, position, tpp in rows:
        quota = quota_amount(rules.get(position), tpp) * f.months
        amount = int(spent.get(user_id) or 0)
        out.append({"nip": nip, "opd": opd, "opd_id": opd_id, "amount": amount,
                    "quota": quota, "met": amount >= quota})  # fmt: skip
    return out


def _by_opd(rows: list[dict]) -> dict:
    """The former per-OPD share of ASN meeting the quota."""
    totals: dict = {}
    for row in rows:
        met_total = totals.setdefault(row["opd_id"], [0, 0])
        met_total[0] += row["met"]
        met_total[1] += 1
    return {opd: round(100 * met / total) for opd, (met, total) in totals.items()}


def test_sql_quota_equals_python_for_every_rule_kind(app):
    _rules()
    _roster()
    periods = [
        Filters(date(2026, 3, 1), date(2026, 3, 31)),
        Filters(date(2026, 3, 1), date(2026, 4, 30)),
        Filters(date(2026, 3, 5), date(2026, 4, 20)),  # not whole months: reads the reports
        Filters(date(2026, 3, 1), date(2026, 3, 31), (1,), True),  # spend stays city-wide
    ]
    for f in periods:
        want = _python(f)
        got = compliance.asn_compliance(f)
        assert {r["nip"]: (r["amount"], r["quota"], r["met"]) for r in got} == {
            r["nip"]: (r["amount"], r["quota"], r["met"]) for r in want
        }
        assert len(got) == 31  # 30 + the one without an OPD; the retired ASN is off the roster
        panel = compliance.quota_panel(f, listed=4)
        below = [r for r in got if not r["met"]]
        assert panel["asn_total"] == len(want)
        assert panel["below_count"] == sum(not r["met"] for r in want) == len(below)
        assert 0 < panel["below_count"] < len(want)
        assert panel["below"] == below[:4]
        assert panel["by_opd"] == _by_opd(want)
    # A 60% share of a 40 million TPP is 24 million a month, past a 32-bit product.
    assert max(r["quota"] for r in compliance.asn_compliance(periods[1])) == 48_000_000


def test_page_shows_sql_quota_counts(client, app):
    _rules()
    _roster()
    make_staff("viewer", username="kuota")
    login(client, "dinas", "kuota")
    march = {"mulai": "2026-03-01", "sampai": "2026-03-31"}
    html = client.get("/dinas/dasbor", query_string=march).get_data(as_text=True)
    panel = compliance.quota_panel(Filters(date(2026, 3, 1), date(2026, 3, 31)))
    assert f"<span data-below>{panel['below_count']}</span> dari 31 ASN" in html
    assert all(r["nip"] in html for r in panel["below"])
