"""What the tests that deliver through a real Celery worker share: its environment on a
queue of its own, no quiet hours, and the outbox flushed until the worker takes it."""

import time
import uuid

from sqlalchemy import update

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, Setting
from promkm_qr.reference import get_setting
from tests.notifications.loopback import PHONE_ID, TOKEN


def set_reminders(**values) -> None:
    """Save the reminder settings with `values` changed."""
    setting = db.session.get(Setting, "reminders") or Setting(key="reminders")
    setting.value = {**get_setting("reminders"), **values}
    db.session.add(setting)
    db.session.commit()


def no_quiet_hours() -> None:
    """The worker delivers at the real time of day: no quiet hours."""
    set_reminders(quiet_start="00:00", quiet_end="00:00")


def worker_env(app, session_env, cloud_api, monkeypatch) -> dict:
    """A worker's environment on a new queue (the app sends to it too), sending WhatsApp to
    the loopback Cloud API."""
    queue = f"reminders-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.extensions["celery"].conf, "task_default_queue", queue)
    return {
        **session_env,
        "PROMKM_QUEUE": queue,
        "WHATSAPP_API_URL": cloud_api.url,
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
    }


def flush_until_received(cloud_api, timeout: float = 60) -> None:
    """Send the outbox again until the API has a request: a message sent before the worker
    has bound its queue may be dropped, and the delivery task tolerates a second copy."""
    deadline = time.monotonic() + timeout
    while not cloud_api.requests and time.monotonic() < deadline:
        db.session.execute(update(OutboxMessage).values(sent_at=None))
        db.session.commit()
        outbox.flush()
        time.sleep(2)
    assert cloud_api.requests, "the worker took no delivery in time"
