"""The rules and the unanswered sweep run as Celery tasks on a real worker."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportFlag
from promkm_qr.models.base import utcnow
from tests.factories import make_asn, make_report, make_stall
from tests.verify.factories import make_evidence, scene_jpeg


def wait_for(condition, timeout: float = 30) -> bool:
    """Poll condition (in a fresh snapshot each time) until it holds or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if condition():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.worker
def test_submission_outbox_message_runs_the_rules_on_the_worker(app, worker):
    asn, stall = make_asn(), make_stall()
    photo = scene_jpeg(7)
    # Yesterday 10:00 WIB: at any hour the suite runs, no rule but the photo's applies.
    at = (utcnow() - timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    make_report(asn, stall, purchased_at=at, evidence=make_evidence(photo))
    reused = make_report(make_asn(), make_stall(), purchased_at=at, evidence=make_evidence(photo))
    # What the ASN submission does after saving a report.
    message = outbox.enqueue("promkm_qr.reports.check_rules", reused.id)
    db.session.commit()
    outbox.send_pending([message])
    assert wait_for(lambda: db.session.get(PurchaseReport, reused.id).flagged)
    rules = db.session.scalars(select(ReportFlag.rule).where(ReportFlag.report_id == reused.id))
    assert list(rules) == ["photo"]


@pytest.mark.worker
def test_sweep_task_flags_unanswered_reports(app, worker):
    old = make_report(make_asn(), make_stall(), created_at=utcnow() - timedelta(days=10))
    app.extensions["celery"].send_task("promkm_qr.reports.sweep_unanswered")
    assert wait_for(lambda: db.session.get(PurchaseReport, old.id).flagged)


def test_sweep_is_scheduled_daily(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["sweep-unanswered-reports"]["task"] == "promkm_qr.reports.sweep_unanswered"
