"""A broker down while reminders are composed delays them; they are delivered once after."""

import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import Notification, OutboxMessage, Setting
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import compose
from promkm_qr.reference import get_setting
from tests.factories import make_asn, make_merchant, make_report, make_stall
from tests.notifications.loopback import PHONE_ID, TOKEN
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
    # The worker delivers at the real time of day: no quiet hours for this test.
    setting = db.session.get(Setting, "reminders") or Setting(key="reminders")
    setting.value = {**get_setting("reminders"), "quiet_start": "00:00", "quiet_end": "00:00"}
    db.session.add(setting)
    db.session.commit()

    def broker_down(_celery):
        raise ConnectionError("broker down")

    with monkeypatch.context() as down:
        down.setattr(outbox, "_connection", broker_down)
        compose.store(compose.merchant_digests(now), now)
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.sent_at is None and "broker down" in message.last_error
    row_id = db.session.scalar(select(Notification.id).where(Notification.channel == "whatsapp"))

    queue = f"reminders-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.extensions["celery"].conf, "task_default_queue", queue)
    env = {
        **session_env,
        "PROMKM_QUEUE": queue,
        "WHATSAPP_API_URL": cloud_api.url,
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
    }
    with (tmp_path / "worker.log").open("w+b") as log:
        worker = Worker(env, log=log)
        try:
            # The flush runs until the worker's queue exists: a message sent before it is
            # bound may be dropped, and the delivery task tolerates a second copy.
            deadline = time.monotonic() + 60
            while not cloud_api.requests and time.monotonic() < deadline:
                db.session.execute(update(OutboxMessage).values(sent_at=None))
                db.session.commit()
                outbox.flush()
                time.sleep(2)
            row = _wait_sent(row_id, worker, log)
            time.sleep(2)  # any second copy of the task has had time to run
        finally:
            worker.stop()
    assert row.status == "sent" and row.provider_id == "wamid.TEST1"
    assert len(cloud_api.requests) == 1 and cloud_api.malformed == []
