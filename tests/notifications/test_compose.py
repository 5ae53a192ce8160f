"""Who gets which reminder on which day, with the exact figures."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from promkm_qr.extensions import db
from promkm_qr.models import Notification, OutboxMessage, User
from promkm_qr.notifications import compose
from tests.factories import make_asn, make_merchant, make_report, make_stall

# 19:30 WIB on Friday 4 December 2026.
NOW = datetime(2026, 12, 4, 12, 30)


def _rows(kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    )


def test_the_merchant_digest_of_a_seeded_day(app):
    asn = make_asn()
    busy, quiet, idle = make_merchant(), make_merchant(), make_merchant()
    first, second = make_stall(owner=busy), make_stall(owner=busy, name="Warung Dua")
    answered = make_stall(owner=quiet)
    make_stall(owner=idle)
    oldest = NOW - timedelta(days=6, hours=2)  # 6 days 2 hours: in the last call (7 days)
    make_report(asn, first, 25_000, purchased_at=oldest)
    make_report(asn, first, 40_000, purchased_at=NOW - timedelta(days=2))
    make_report(asn, second, 1_250_000, purchased_at=NOW - timedelta(hours=3))
    for state in ("confirmed", "disputed", "withdrawn", "verified"):
        make_report(asn, second, 99_000, purchased_at=NOW - timedelta(hours=5), state=state)
        make_report(asn, answered, 99_000, purchased_at=NOW - timedelta(hours=5), state=state)

    counts = compose.store(compose.merchant_digests(NOW), NOW)

    (row,) = _rows("merchant_digest")  # one message, only for the merchant with waiting reports
    assert counts == {"sent": 1}
    assert (row.user_id, row.channel, row.status) == (busy.id, "inapp", "sent")
    assert row.body.startswith(
        "3 laporan pembelian menunggu konfirmasi Anda, total Rp1.315.000, yang terlama sejak "
        "28 November 2026."
    )
    assert "Terakhir: 1 di antaranya" in row.body
    assert row.link.endswith("/umkm/")
    assert row.params == {
        "template": "pengingat_konfirmasi_terakhir",
        "values": ["3", "Rp1.315.000", "28 November 2026", "1", row.link],
    }
    assert row.idempotency_key == f"merchant_digest:2026-12-04:{busy.id}:inapp"


def test_composing_twice_adds_nothing(app):
    asn, merchant = make_asn(), make_merchant()
    make_report(asn, make_stall(owner=merchant), purchased_at=NOW - timedelta(days=1))
    app.config["WHATSAPP_TOKEN"], app.config["WHATSAPP_PHONE_NUMBER_ID"] = "t", "123"
    try:
        first = compose.store(compose.merchant_digests(NOW), NOW)
        second = compose.store(compose.merchant_digests(NOW), NOW)
    finally:
        app.config["WHATSAPP_TOKEN"] = app.config["WHATSAPP_PHONE_NUMBER_ID"] = None
    assert first == {"sent": 1, "queued": 1} and second == {}
    assert db.session.scalar(select(func.count(Notification.id))) == 2
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    (whatsapp,) = [r for r in _rows("merchant_digest") if r.channel == "whatsapp"]
    assert message.task == "promkm_qr.notifications.deliver" and message.args == [[whatsapp.id]]


def test_no_digest_when_nothing_waits_and_english_for_english_accounts(app):
    asn, merchant = make_asn(), make_merchant()
    stall = make_stall(owner=merchant)
    make_report(asn, stall, purchased_at=NOW - timedelta(days=1), state="confirmed")
    assert list(compose.merchant_digests(NOW)) == []
    make_report(asn, stall, 20_000, purchased_at=NOW - timedelta(days=1))
    db.session.get(User, merchant.id).locale = "en"
    db.session.commit()
    (draft,) = compose.merchant_digests(NOW)
    assert draft.text.body.startswith("1 purchase report(s) wait for your confirmation")
    assert "Rp20.000" in draft.text.body


def _shortfall_case():
    """An ASN below the quota (pelaksana, Rp50.000), one above, one off the roster."""
    below, above, gone = make_asn(), make_asn(), make_asn()
    stall = make_stall()
    make_report(below, stall, 30_000, purchased_at=datetime(2026, 12, 2, 3, 0))
    make_report(below, stall, 10_000, purchased_at=datetime(2026, 12, 2, 4, 0), state="rejected")
    make_report(above, stall, 60_000, purchased_at=datetime(2026, 12, 2, 3, 0))
    gone.asn.on_roster = False
    db.session.commit()
    return below


def test_the_shortfall_reminder_comes_on_the_right_day_only_to_asn_below_quota(app):
    below = _shortfall_case()
    # 27 December WIB is 5 days before the close (1 January): 27, 28, 29, 30, 31.
    for day in (26, 28, 31):
        assert compose.asn_shortfalls(datetime(2026, 12, day, 12, 0)) == []
    (draft,) = compose.asn_shortfalls(datetime(2026, 12, 27, 12, 0))
    assert draft.recipient.id == below.id
    assert draft.text.body.startswith(
        "Belanja UMKM Anda bulan Desember 2026 baru Rp30.000 dari kuota Rp50.000: kurang "
        "Rp20.000. Bulan ditutup 5 hari lagi."
    )
    assert draft.text.link.endswith("/asn/riwayat")
    assert draft.subject == "2026-12"


def test_compose_due_waits_for_the_send_time_and_runs_once_a_day(app):
    asn, merchant = make_asn(), make_merchant()
    make_report(asn, make_stall(owner=merchant), purchased_at=NOW - timedelta(days=1))
    assert compose.compose_due(datetime(2026, 12, 4, 11, 59)) is None  # 18:59 WIB
    assert compose.compose_due(NOW) == {"sent": 1}
    assert compose.compose_due(NOW + timedelta(hours=1)) is None
    assert compose.compose_due(NOW + timedelta(days=1)) == {"sent": 1}  # the next day's digest
