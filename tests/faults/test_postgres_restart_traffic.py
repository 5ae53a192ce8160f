"""PostgreSQL restarted in the middle of report submissions from several phones at once.

The app is served over HTTP on its own PostgreSQL server (started from the installed
binaries), four ASN keep submitting reports with photos, and the server is stopped and
started again mid-stream: a fast shutdown (open connections are cut) and an immediate one
(every server process killed, as in a crash; WAL recovery on start). Every answer is then
checked against the database and the storage directory.
"""

import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import (
    AuditEntry,
    OutboxMessage,
    PhotoUpload,
    PurchaseReport,
    ReportTransition,
)
from promkm_qr.tasks.evidence import requeue_stale_uploads, sweep_orphan_uploads
from tests.faults.traffic import (
    DOWN_MESSAGE,
    Served,
    Submitter,
    build_world,
    post_report,
    receipt_id,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]
SUBMITTERS = 4


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _stored_uploads(storage: Path) -> set[str]:
    return {
        p.relative_to(storage).as_posix() for p in (storage / "uploads").rglob("*") if p.is_file()
    }


def _whole(report: PurchaseReport, storage: Path) -> None:
    """A recorded report has its first step, audit entry, upload and file."""
    steps = db.session.scalars(
        select(ReportTransition).where(ReportTransition.report_id == report.id)
    ).all()
    assert [(s.from_state, s.to_state) for s in steps] == [(None, "submitted")]
    entries = db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "report.submitted", AuditEntry.object_id == str(report.id)
        )
    )
    assert entries == 1
    upload = db.session.scalars(select(PhotoUpload).where(PhotoUpload.report_id == report.id)).one()
    assert (storage / upload.upload_key).is_file()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_during_submissions(
    temp_postgres, make_other_app, tmp_path, monkeypatch, mode
):
    # No broker listens on port 1: every outbox message stays queued, which is all this
    # test needs from it; the queue name keeps other tests' workers away.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("PROMKM_QUEUE", f"restart-{uuid.uuid4().hex[:8]}")
    storage = tmp_path / "storage"
    config = {
        "SQLALCHEMY_DATABASE_URI": temp_postgres.url,
        "STORAGE_DIR": str(storage),
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    with make_other_app(config) as app:
        form_url, nips = build_world(app, SUBMITTERS)
        served = Served(app)
        stop = threading.Event()
        submitters = [Submitter(served.url, form_url, nip, stop) for nip in nips]
        try:
            for s in submitters:
                s.start()

            def answered() -> list:
                return [a for s in submitters for a in s.answers]

            _wait_for(lambda: len(answered()) >= 12, 60, "submissions before the restart")
            # Taken before the stop: a fast shutdown can take long enough that every 503
            # is answered before stop() returns.
            stopped_at = time.monotonic()
            temp_postgres.stop(mode)
            _wait_for(lambda: sum(a.status == 503 for a in answered()) >= 4, 30, "503 answers")
            temp_postgres.start()
            started_at = time.monotonic()
            _wait_for(
                lambda: sum(a.started > started_at and a.status == 302 for a in answered()) >= 8,
                60,
                "submissions after the restart",
            )
        finally:
            stop.set()
            for s in submitters:
                s.join(40)
        answers = answered()

        # Every answer is a receipt or the clear 503 page, nothing else (no 500, no hang).
        assert {a.status for a in answers} <= {302, 503}, sorted({a.status for a in answers})
        failed = [a for a in answers if a.status == 503]
        for a in failed:
            assert DOWN_MESSAGE in a.body and "Layanan sedang sibuk" in a.body
        assert any(stopped_at < a.started + a.seconds for a in failed)
        # The app recovered on its own: submissions started after the restart succeed.
        after = [a for a in answers if a.started > started_at]
        assert after and all(a.status == 302 for a in after)

        with app.app_context():
            ok_keys = {a.form_key: receipt_id(a) for a in answers if a.status == 302}
            reports = db.session.scalars(select(PurchaseReport)).all()
            by_key = {r.idempotency_key: r for r in reports}
            for key, report_id in ok_keys.items():
                assert by_key[key].id == report_id
                _whole(by_key[key], storage)
            for a in failed:
                # A commit the server made just before it cut the connection is the one
                # case no client can tell from a failure: such a report must still be whole.
                if a.form_key in by_key:
                    _whole(by_key[a.form_key], storage)
            extra = set(by_key) - set(ok_keys) - {a.form_key for a in failed}
            assert not extra
            assert db.session.scalar(select(func.count(PhotoUpload.id))) == len(reports)
            # With the broker down, each photo's message is kept in the outbox, unless the
            # database went down between the report's commit and that keeping: the hourly
            # requeue (run here at once) then keeps exactly the missing ones.
            requeue_stale_uploads.run(age_seconds=0)
            messages = db.session.scalars(select(OutboxMessage.args)).all()
            assert sorted(args[0] for args in messages) == sorted(r.id for r in reports)
            assert audit.verify_chain() is None
            # An upload whose commit was cut off is kept until the sweep knows the outcome.
            sweep_orphan_uploads(0)
            named = set(db.session.scalars(select(PhotoUpload.upload_key)))
            assert _stored_uploads(storage) == named
            db.session.remove()

        # Sending a failed form again records it once; a second resend shows the same receipt.
        resent = []
        for s in submitters:
            for a in [a for a in s.answers if a.status == 503][:1]:
                first = post_report(s.session, served.url + form_url, s.csrf, a.form_key)
                again = post_report(s.session, served.url + form_url, s.csrf, a.form_key)
                assert first.status == again.status == 302
                assert first.location == again.location
                resent.append(a)
        assert resent
        with app.app_context():
            for a in resent:
                report = db.session.scalars(
                    select(PurchaseReport).where(PurchaseReport.idempotency_key == a.form_key)
                ).one()
                _whole(report, storage)
            db.session.remove()
            db.engines[None].dispose()
        served.close()
