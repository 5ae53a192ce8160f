"""Staff alerts: the review queue of their scope over the threshold; failed jobs today."""

from datetime import datetime, timedelta

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import Kecamatan
from promkm_qr.notifications.staff import remember_queue, staff_alerts
from promkm_qr.notifications.store import store
from tests.factories import make_asn, make_report, make_staff, make_stall
from tests.notifications.workers import set_reminders

NOW = datetime(2026, 12, 4, 12, 30)  # 19:30 WIB


def test_the_review_queue_alert_follows_each_staff_members_scope(app):
    set_reminders(review_threshold=2)
    asn = make_asn()
    north, south = make_stall(), make_stall(kel_code="35.77.03.1001")
    for _n in range(3):
        make_report(asn, north, flags=["amount"], purchased_at=NOW - timedelta(hours=2))
    make_report(asn, south, state="disputed", purchased_at=NOW - timedelta(hours=2))
    make_report(asn, south, purchased_at=NOW - timedelta(hours=2))  # not in the queue
    kartoharjo = db.session.scalar(select(Kecamatan).where(Kecamatan.code == "35.77.01"))
    taman = db.session.scalar(select(Kecamatan).where(Kecamatan.code == "35.77.03"))
    admin = make_staff("admin")
    north_reviewer = make_staff("reviewer", scope_kecamatan_id=kartoharjo.id)
    make_staff("reviewer", scope_kecamatan_id=taman.id)  # 1 waiting: under the threshold
    make_staff("viewer")
    drafts = list(staff_alerts(NOW))
    assert [(d.recipient.id, d.kind) for d in drafts] == [
        (admin.id, "staff_review_queue"),
        (north_reviewer.id, "staff_review_queue"),
    ]
    assert drafts[0].text.body.startswith(
        "Antrean tinjauan di wilayah Anda berisi 4 laporan, melewati batas 2."
    )
    assert drafts[1].text.subject == "Antrean tinjauan: 3 laporan"
    assert drafts[0].text.link.endswith("/dinas/tinjauan")


def test_a_failed_job_alerts_the_admins_and_whoever_started_it(app):
    admin, operator, other = make_staff("admin"), make_staff("operator"), make_staff("operator")
    job = create_job("roster_import", created_by_id=operator.id)
    db.session.flush()
    finish_job(job, error="baris 3: NIP tidak valid")
    job.finished_at = NOW - timedelta(hours=1)
    old = create_job("documents")
    db.session.flush()
    finish_job(old, error="x")
    old.finished_at = NOW - timedelta(days=1)  # yesterday's: already told
    db.session.commit()
    drafts = list(staff_alerts(NOW))
    assert [(d.recipient.id, d.kind) for d in drafts] == [
        (admin.id, "staff_jobs_failed"),
        (operator.id, "staff_jobs_failed"),
    ]
    assert other.id not in {d.recipient.id for d in drafts}
    assert drafts[0].text.body.startswith("1 pekerjaan (cetak dokumen atau impor) gagal hari ini.")


def test_a_queue_growing_faster_than_the_setting_alerts_its_staff_once_a_day(app):
    set_reminders(review_growth=2)
    asn = make_asn()
    north, south = make_stall(), make_stall(kel_code="35.77.03.1001")
    make_report(asn, north, flags=["amount"], purchased_at=NOW - timedelta(days=1))
    make_report(asn, south, flags=["amount"], purchased_at=NOW - timedelta(days=1))
    admin = make_staff("admin")
    taman = db.session.scalar(select(Kecamatan).where(Kecamatan.code == "35.77.03"))
    make_staff("reviewer", scope_kecamatan_id=taman.id)  # south grew by 1 a day: under 2
    yesterday = NOW - timedelta(days=1)
    assert [d.kind for d in staff_alerts(yesterday)] == []  # nothing counted before
    remember_queue(yesterday)
    db.session.commit()
    for _n in range(3):
        make_report(asn, north, flags=["amount"], purchased_at=NOW - timedelta(hours=2))
    make_report(asn, south, flags=["amount"], purchased_at=NOW - timedelta(hours=2))

    drafts = [d for d in staff_alerts(NOW) if d.kind == "staff_review_growth"]
    assert [d.recipient.id for d in drafts] == [admin.id]
    assert drafts[0].text.body.startswith(
        "Antrean tinjauan di wilayah Anda bertambah 4 laporan sejak kemarin, melewati batas 2 "
        "per hari."
    )
    assert drafts[0].text.link.endswith("/dinas/tinjauan")
    # Composed twice the same day, the alert is stored once.
    assert store(staff_alerts(NOW), NOW) == {"sent": 1}
    assert store(staff_alerts(NOW), NOW) == {}
    # Two days after the count, the growth is spread over both days: 4 / 2 is not over 2.
    assert [d.kind for d in staff_alerts(NOW + timedelta(days=1))] == []
