"""Starting documents while the broker is down: saved and answered, sent once when it is back."""

import time

import pytest
from celery import Celery
from sqlalchemy import select

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import Document, Job, OutboxMessage
from tests.conftest import csrf_token, login
from tests.documents.conftest import wait_for
from tests.factories import make_staff

# Nothing listens on port 1: connecting is refused at once, as with Redis stopped.
DOWN = "redis://127.0.0.1:1/0"


@pytest.mark.worker
def test_batch_started_while_broker_is_down_runs_once_when_it_is_back(
    app, client, worker, monkeypatch
):
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    token = csrf_token(client, "/dinas/dokumen")
    real = app.extensions["celery"]
    real_url = real.conf.broker_url  # read before the environment points elsewhere
    real.producer_pool  # noqa: B018  (created now, so it keeps the real broker's URL)
    # Celery prefers CELERY_BROKER_URL from the environment over its broker argument.
    monkeypatch.setenv("CELERY_BROKER_URL", DOWN)
    down = Celery(app.name, broker=DOWN, set_as_current=False)
    app.extensions["celery"] = down  # the app's broker is now unreachable
    try:
        started = time.monotonic()
        response = client.post(
            "/dinas/dokumen/buat", data={"csrf_token": token, "period": "2026-10"}
        )
        answered_in = time.monotonic() - started
    finally:
        monkeypatch.setenv("CELERY_BROKER_URL", real_url)
        app.extensions["celery"] = real
        down.close()
    assert response.status_code == 302 and "/dinas/jobs/" in response.location
    # The outbox tries the broker once and does not wait for it to come back.
    assert answered_in < 2
    job = db.session.scalars(select(Job).where(Job.kind == "documents")).one()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.args == [job.id] and message.sent_at is None and message.attempts == 1
    assert job.state == "queued"
    time.sleep(2)
    db.session.rollback()
    assert db.session.get(Job, job.id).state == "queued"  # nothing reached a worker

    assert outbox.flush() == 1
    assert outbox.flush() == 0
    wait_for(lambda: db.session.get(Job, job.id).state == "done", what="the batch")
    job = db.session.get(Job, job.id)
    docs = db.session.scalars(select(Document).where(Document.period == "2026-10")).all()
    assert job.total == job.done == len(docs) > 0
    assert db.session.scalars(select(OutboxMessage)).one().sent_at is not None
