"""A broker down while reminders are composed delays them; they are delivered once after."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import Notification, OutboxMessage
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import compose
from tests.factories import make_asn, make_merchant, make_report, make_stall
from tests.notifications.workers import flush_until_received, no_quiet_hours, worker_env
from tests.support.worker import Worker


def _wait_sent(row_id: int, worker: Worker, log, timeout: float = 90) -> Notification:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # a new snapshot
        row = db.session.get(Notification, row_id)
        if row.status != "queued":
            return row
        assert worker.process.poll() is None, "the worker exited"
        time.sleep(0.5)
    log.seek(0)
    raise AssertionError(log.read().decode(errors="replace")[-2000:])


@pytest.mark.worker
def test_broker_down_then_up_delivers_once(app, session_env, cloud_api, tmp_path, monkeypatch):
    merchant = make_merchant(phone="081234567890")
    make_report(make_asn(), make_stall(owner=merchant), 25_000, utcnow() - timedelta(days=1))
    now = utcnow()
    no_quiet_hours()

    def broker_down(_celery):
        raise ConnectionError("broker down")

    with monkeypatch.context() as down:
        down.setattr(outbox, "_connection", broker_down)
        compose.store(compose.merchant_digests(now), now)
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.sent_at is None and "broker down" in message.last_error
    row_id = db.session.scalar(select(Notification.id).where(Notification.channel == "whatsapp"))

    env = worker_env(app, session_env, cloud_api, monkeypatch)
    with (tmp_path / "worker.log").open("w+b") as log:
        worker = Worker(env, log=log)
        try:
            flush_until_received(cloud_api)
            row = _wait_sent(row_id, worker, log)
            time.sleep(2)  # any second copy of the task has had time to run
        finally:
            worker.stop()
    assert row.status == "sent" and row.provider_id == "wamid.TEST1"
    assert len(cloud_api.requests) == 1 and cloud_api.malformed == []
