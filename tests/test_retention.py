"""Personal data past its retention period is removed, and only that."""

import time
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from promkm_qr import audit, retention
from promkm_qr.extensions import db
from promkm_qr.models import (
    AuditEntry,
    Document,
    Evidence,
    Notification,
    PurchaseReport,
    RefusedScan,
    UserSession,
)
from promkm_qr.models.base import utcnow
from promkm_qr.storage import get_storage
from tests.factories import make_asn, make_merchant, make_notification, make_report, make_stall
from tests.verify.factories import make_evidence

# The clock, moved: 10 March 2029, 12:00 WIB.
NOW = datetime(2029, 3, 10, 5, 0)


def _photo(created_at: datetime, at: datetime) -> Evidence:
    evidence = make_evidence()
    evidence.created_at = created_at
    evidence.gps_lat, evidence.gps_lon = -7.63, 111.52
    for key in (evidence.storage_key, evidence.thumb_key):
        get_storage().put(key, b"\xff\xd8jpeg")
    return evidence


def _scan(at: datetime) -> RefusedScan:
    scan = RefusedScan(at=at, token="x", reason="unknown", client="203.0.113.7")
    db.session.add(scan)
    return scan


def _session(user, last_seen_at: datetime) -> UserSession:
    row = UserSession(
        user_id=user.id,
        token_hash=uuid.uuid4().hex,
        version=1,
        created_at=last_seen_at,
        last_seen_at=last_seen_at,
        client="203.0.113.0/24",
    )
    db.session.add(row)
    return row


def _note(asn, at: datetime) -> Notification:
    return make_notification(
        asn,
        f"asn_shortfall:{at:%Y-%m-%d}:{asn.id}:inapp",
        body="Belanja kurang Rp20.000",
        params={"values": ["Rp20.000"]},
        created_at=at,
    )


def _totals():
    return db.session.execute(
        select(PurchaseReport.state, func.count(), func.sum(PurchaseReport.amount))
        .group_by(PurchaseReport.state)
        .order_by(PurchaseReport.state)
    ).all()


def test_purge_removes_exactly_what_is_due_once(app):
    asn, stall = make_asn(), make_stall()
    # February 2027 (WIB) closes on 1 March 2027; 24 months later is 1 March 2029: due.
    feb = datetime(2027, 2, 28, 16, 30)  # 23:30 WIB on 28 February
    # 00:30 WIB on 1 March 2027: a March report, whose photo stays until 1 April 2029.
    march = datetime(2027, 2, 28, 17, 30)
    recent = datetime(2028, 6, 1, 3, 0)
    reports = {}
    for name, at, state in (("feb", feb, "verified"), ("march", march, "confirmed")):
        reports[name] = make_report(
            asn, stall, 40_000, at, state, evidence=_photo(at, at), lat=-7.6, lon=111.5
        )
    reports["recent"] = make_report(
        asn, stall, 30_000, recent, evidence=_photo(recent, recent), lat=-7.6, lon=111.5
    )
    # Positions go 24 calendar months after they were recorded: one hour either side.
    reports["feb"].created_at = datetime(2027, 3, 10, 4, 0)
    reports["march"].created_at = datetime(2027, 3, 10, 6, 0)
    reports["march"].evidence.created_at = datetime(2027, 3, 10, 6, 0)
    old_scan, new_scan = _scan(NOW - timedelta(days=91)), _scan(NOW - timedelta(days=89))
    old_session, new_session = (
        _session(asn, NOW - timedelta(days=91)),
        _session(asn, NOW - timedelta(days=89)),
    )
    old_note, new_note = _note(asn, NOW - timedelta(days=91)), _note(asn, NOW - timedelta(days=89))
    get_storage().put("documents/receipt.pdf", b"%PDF-1.7 issued")
    db.session.add(
        Document(
            public_id="RETAINED1",
            kind="asn_receipt",
            subject=str(asn.id),
            period="2027-02",
            state="done",
            storage_key="documents/receipt.pdf",
        )
    )
    audit.record("report.verified", "purchase_report", reports["feb"].id)
    db.session.commit()
    old_session_id = old_session.id
    totals = _totals()

    counts = retention.purge(NOW)

    assert counts == {
        "photos": 1,
        "report_positions": 1,
        "evidence_positions": 1,
        "scan_addresses": 1,
        "data_exports": 0,
        "session_rows": 1,
        "message_bodies": 1,
    }
    db.session.expire_all()
    feb_ev, march_ev, recent_ev = (
        db.session.get(PurchaseReport, r.id).evidence for r in reports.values()
    )
    storage = get_storage()
    assert feb_ev.purged_at == NOW
    assert not storage.exists(feb_ev.storage_key) and not storage.exists(feb_ev.thumb_key)
    for kept in (march_ev, recent_ev):
        assert kept.purged_at is None
        assert storage.exists(kept.storage_key) and storage.exists(kept.thumb_key)
    assert (feb_ev.gps_lat, march_ev.gps_lat, recent_ev.gps_lat) == (None, -7.63, -7.63)
    positions = [db.session.get(PurchaseReport, r.id).lat for r in reports.values()]
    assert positions == [None, -7.6, -7.6]
    assert db.session.get(RefusedScan, old_scan.id).client is None
    assert db.session.get(RefusedScan, new_scan.id).client == "203.0.113.7"
    assert db.session.get(UserSession, old_session_id) is None
    assert db.session.get(UserSession, new_session.id).client == "203.0.113.0/24"
    gone, kept_note = (
        db.session.get(Notification, old_note.id),
        db.session.get(Notification, new_note.id),
    )
    assert (gone.body, gone.params, gone.status) == (None, None, "sent")
    assert kept_note.body == "Belanja kurang Rp20.000"
    assert _totals() == totals
    assert storage.get("documents/receipt.pdf") == b"%PDF-1.7 issued"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.data) == ("retention.purged", counts)

    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    assert retention.purge(NOW) == dict.fromkeys(counts, 0)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries  # nothing recorded

    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_purge_works_through_batches(app, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    for _ in range(5):
        _scan(NOW - timedelta(days=200))
    db.session.commit()
    assert retention.purge(NOW)["scan_addresses"] == 5
    assert db.session.scalar(select(func.count()).where(RefusedScan.client.is_not(None))) == 0


def test_periods_come_from_the_settings(app):
    from promkm_qr.models import Setting

    setting = db.session.get(Setting, "retention") or Setting(key="retention")
    setting.value = {"photo_months": 24, "position_months": 24, "address_days": 30}
    db.session.add(setting)
    _scan(NOW - timedelta(days=31))
    db.session.commit()
    assert retention.purge(NOW)["scan_addresses"] == 1


def test_purge_is_scheduled_daily(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["purge-expired-personal-data"]["task"] == "promkm_qr.privacy.purge_expired"


def test_a_purged_photo_is_not_found_for_asn_and_merchant(app):
    from tests.conftest import login

    merchant = make_merchant()
    asn, stall = make_asn(), make_stall(owner=merchant)
    at = datetime(2027, 1, 10, 3, 0)
    report = make_report(asn, stall, purchased_at=at, evidence=_photo(at, at))
    retention.purge(NOW)
    for role, identifier, url in (
        ("merchant", merchant.phone, f"/umkm/laporan/{report.id}/foto"),
        ("asn", asn.nip, f"/asn/foto/{report.id}"),
    ):
        client = app.test_client()
        login(client, role, identifier)
        assert client.get(url).status_code == 404
        page = "/umkm/?bulan=2027-01" if role == "merchant" else f"/asn/laporan/{report.id}"
        html = client.get(page).get_data(as_text=True)
        assert "data-photo-purged" in html and url not in html


@pytest.mark.worker
def test_the_scheduled_task_purges_on_a_real_worker(app, worker):
    old = utcnow() - timedelta(days=4 * 366)
    report = make_report(make_asn(), make_stall(), purchased_at=old, evidence=_photo(old, old))
    app.extensions["celery"].send_task("promkm_qr.privacy.purge_expired")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db.session.rollback()
        if db.session.get(Evidence, report.evidence_id).purged_at is not None:
            break
        time.sleep(0.3)
    assert not get_storage().exists(db.session.get(Evidence, report.evidence_id).storage_key)
    assert db.session.get(PurchaseReport, report.id).amount == 25_000
