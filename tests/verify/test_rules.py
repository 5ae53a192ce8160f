"""Each rule flags the case it is meant for and leaves the ordinary case alone."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from promkm_qr.core.photos import process_photo
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, PurchaseReport, ReportFlag, Setting
from promkm_qr.reports.checks import check_reports
from tests.factories import make_asn, make_report, make_stall
from tests.verify.factories import make_evidence, resaved_smaller, scene_jpeg

# 10:00 WIB on a weekday.
MORNING = datetime(2026, 3, 10, 3, 0)


def flags_of(report) -> dict[str, str]:
    """Run the rules on one report and return its flags."""
    check_reports([report.id])
    db.session.commit()
    rows = db.session.execute(
        select(ReportFlag.rule, ReportFlag.detail).where(ReportFlag.report_id == report.id)
    )
    return dict(rows.all())


@pytest.fixture
def asn(app):
    return make_asn()


@pytest.fixture
def stall(app):
    return make_stall(lat=-7.63, lon=111.52)


def test_honest_report_has_no_flags(asn, stall):
    report = make_report(asn, stall, purchased_at=MORNING, lat=-7.6302, lon=111.5203)
    assert flags_of(report) == {}
    assert db.session.get(PurchaseReport, report.id).flagged is False


def test_amount_far_above_the_stalls_usual(asn, stall):
    for day in range(6):
        make_report(make_asn(), stall, 20_000, MORNING - timedelta(days=day + 1))
    usual = make_report(asn, stall, 150_000, MORNING)
    inflated = make_report(asn, stall, 900_000, MORNING + timedelta(hours=2))
    assert "amount" not in flags_of(usual)
    assert "Rp900.000" in flags_of(inflated)["amount"]


def test_amount_without_history_compares_with_the_category(asn, stall):
    other = make_stall()
    for day in range(3):
        make_report(make_asn(), other, 30_000, MORNING - timedelta(days=day + 1))
    assert "amount" not in flags_of(make_report(asn, stall, 140_000, MORNING))
    assert "kategori" in flags_of(make_report(asn, stall, 1_000_000, MORNING))["amount"]


def test_too_many_reports_in_one_day(asn):
    reports = [
        make_report(asn, make_stall(), purchased_at=MORNING + timedelta(minutes=40 * i))
        for i in range(4)
    ]
    assert "daily_count" not in flags_of(reports[-1])
    fifth = make_report(asn, make_stall(), purchased_at=MORNING + timedelta(hours=4))
    assert "5 pembelian" in flags_of(fifth)["daily_count"]


def test_same_asn_and_stall_again_within_minutes(asn, stall):
    make_report(asn, stall, purchased_at=MORNING)
    later = make_report(asn, stall, purchased_at=MORNING + timedelta(hours=3))
    assert "repeat" not in flags_of(later)
    again = make_report(asn, stall, purchased_at=MORNING + timedelta(hours=3, minutes=10))
    assert "10 menit" in flags_of(again)["repeat"]


def test_same_photo_resaved_smaller_is_caught(asn, stall):
    original = scene_jpeg(1)
    first = make_report(asn, stall, purchased_at=MORNING, evidence=make_evidence(original))
    other = make_report(
        make_asn(), make_stall(), purchased_at=MORNING, evidence=make_evidence(scene_jpeg(2))
    )
    smaller = process_photo(resaved_smaller(original))
    assert smaller.sha256 != process_photo(original).sha256
    reused = make_report(
        make_asn(), make_stall(), purchased_at=MORNING, evidence=make_evidence(smaller)
    )
    assert "photo" not in flags_of(first)
    assert "photo" not in flags_of(other)
    assert f"tampak sama dengan foto laporan {first.reference}" in flags_of(reused)["photo"]


def test_same_photo_bytes_are_caught(asn, stall):
    data = scene_jpeg(3)
    first = make_report(asn, stall, purchased_at=MORNING, evidence=make_evidence(data))
    again = make_report(asn, make_stall(), purchased_at=MORNING, evidence=make_evidence(data))
    assert "sama persis" in flags_of(again)["photo"]
    assert "photo" not in flags_of(first)


def test_phone_far_from_the_stall(asn, stall):
    near = make_report(asn, stall, purchased_at=MORNING, lat=-7.6310, lon=111.5210)
    far = make_report(
        make_asn(), stall, purchased_at=MORNING + timedelta(hours=1), lat=-7.66, lon=111.55
    )
    assert "distance" not in flags_of(near)
    assert "km dari lapak" in flags_of(far)["distance"]


def test_photo_taken_far_from_the_purchase_time(asn, stall):
    wib = MORNING + timedelta(hours=7)
    fresh = make_evidence(taken_at=wib - timedelta(minutes=20))
    old = make_evidence(taken_at=wib - timedelta(days=3))
    assert "photo_time" not in flags_of(
        make_report(asn, stall, purchased_at=MORNING, evidence=fresh)
    )
    assert (
        "72 jam"
        in flags_of(make_report(asn, stall, purchased_at=MORNING, evidence=old))["photo_time"]
    )


def test_purchase_outside_the_stalls_hours(asn, stall):
    for i in range(12):
        make_report(make_asn(), stall, purchased_at=MORNING - timedelta(days=i + 1, hours=i % 4))
    daytime = make_report(asn, stall, purchased_at=MORNING + timedelta(hours=2))
    night = make_report(make_asn(), stall, purchased_at=MORNING + timedelta(hours=17))  # 03:00
    assert "hours" not in flags_of(daytime)
    assert "03:00 WIB" in flags_of(night)["hours"]


def test_rejected_reports_are_no_usual_hours_but_count_for_the_asns_day(asn, stall):
    # One query loads the stall's history (live states) and the ASN's day (all but withdrawn).
    for i in range(12):
        day = MORNING - timedelta(days=i + 1)
        make_report(make_asn(), stall, purchased_at=day, state="verified")
        make_report(make_asn(), stall, purchased_at=day + timedelta(hours=17), state="rejected")
    night = MORNING + timedelta(hours=17)  # 03:00 WIB
    for i in range(3):
        make_report(
            asn, make_stall(), purchased_at=night - timedelta(hours=i + 1), state="rejected"
        )
    make_report(asn, stall, purchased_at=night - timedelta(minutes=10), state="rejected")
    make_report(asn, stall, purchased_at=night - timedelta(minutes=5), state="withdrawn")
    flags = flags_of(make_report(asn, stall, purchased_at=night))
    assert "03:00 WIB" in flags["hours"]
    assert "5 pembelian" in flags["daily_count"]
    assert "10 menit" in flags["repeat"]


def test_a_batch_gives_each_report_the_flags_it_gets_alone(asn, stall):
    other = make_stall()
    for i in range(6):
        make_report(make_asn(), stall, 20_000, MORNING - timedelta(days=i + 1))
    # The batch's window ends at its latest report: the one judged by its category's average
    # is the latest, so alone it sees the same window.
    reports = [
        make_report(make_asn(), other, purchased_at=MORNING - timedelta(hours=7)),  # 03:00
        make_report(asn, stall, 900_000, MORNING),
        make_report(asn, stall, purchased_at=MORNING + timedelta(minutes=20)),
        make_report(asn, other, 900_000, MORNING + timedelta(minutes=30)),
    ]
    alone = {report.id: flags_of(report) for report in reports}
    assert [sorted(found) for found in alone.values()] == [
        ["hours"],
        ["amount"],
        ["repeat"],
        ["amount"],
    ]
    db.session.execute(delete(ReportFlag))
    db.session.commit()
    assert check_reports([report.id for report in reports])["flagged"] == 4
    db.session.commit()
    together = {report.id: {} for report in reports}
    for rid, rule, detail in db.session.execute(
        select(ReportFlag.report_id, ReportFlag.rule, ReportFlag.detail)
    ):
        together[rid][rule] = detail
    assert together == alone


def test_asn_reporting_at_their_own_stall(stall):
    asn = make_asn(nik="3577014509860001")
    other = make_stall(owner_nik="3577010101800002")
    mine = make_stall(owner_nik="3577014509860001")
    assert "own_stall" not in flags_of(make_report(asn, other, purchased_at=MORNING))
    assert "NIK" in flags_of(make_report(asn, mine, purchased_at=MORNING))["own_stall"]


def test_asn_phone_matches_the_stall_phone(app):
    asn = make_asn()
    asn.phone = "081300000001"
    db.session.commit()
    stall = make_stall(phone="081300000001")
    assert "Nomor HP" in flags_of(make_report(asn, stall, purchased_at=MORNING))["own_stall"]


def test_rerunning_gives_the_same_flags_and_writes_nothing(asn, stall):
    data = scene_jpeg(4)
    make_report(asn, stall, purchased_at=MORNING, evidence=make_evidence(data))
    again = make_report(asn, stall, purchased_at=MORNING, evidence=make_evidence(data))
    first = flags_of(again)
    audits = db.session.scalar(select(db.func.count(AuditEntry.id)))
    assert flags_of(again) == first
    assert check_reports([again.id])["changed"] == 0
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == audits
    assert db.session.get(PurchaseReport, again.id).flagged is True


def test_thresholds_come_from_the_setting(asn, stall):
    db.session.merge(Setting(key="rule_thresholds", value={"max_distance_m": 5_000}))
    db.session.commit()
    report = make_report(asn, stall, purchased_at=MORNING, lat=-7.66, lon=111.55)
    assert "distance" not in flags_of(report)
