"""One waiting evidence message serves every upload committed while it waits (PostgreSQL, Redis).

The key that marks the waiting message is named after the queue. These tests give it a name
of their own, so the session's worker (if one runs) neither clears it nor counts here; the
messages still go to the session's queue, and whoever claims an upload first processes it.
"""

import time
import uuid

import pytest
import redis
from sqlalchemy import select

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, PhotoUpload, PurchaseReport
from promkm_qr.reports import evidence_queue
from promkm_qr.reports.evidence_queue import EVIDENCE_TASK
from promkm_qr.tasks import evidence
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.asn.test_evidence import _waiting_reports
from tests.conftest import BACKEND, BROKER

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres" or BROKER != "redis",
    reason="one message per batch needs SKIP LOCKED and a Redis broker",
)
PHOTO = jpeg_bytes(640, 480)


@pytest.fixture
def key(app, monkeypatch):
    """The waiting message's key under a queue name of this test's own; removed after."""
    celery = app.extensions["celery"]
    monkeypatch.setitem(celery.conf, "task_default_queue", f"waiting-{uuid.uuid4().hex[:8]}")
    name = evidence_queue._waiting_key()
    client = redis.Redis.from_url(celery.conf.broker_url)
    yield name
    client.delete(name)
    client.close()


@pytest.fixture
def sent(monkeypatch):
    """The report ids of evidence messages the broker took (they are sent for real)."""
    taken, real = [], outbox._send

    def send(task, args):
        error = real(task, args)
        if error is None and task == EVIDENCE_TASK:
            taken.append(args[0])
        return error

    monkeypatch.setattr(outbox, "_send", send)
    return taken


def _submit(client, url: str) -> int:
    response = post(client, url, report_data(open_form(client, url), PHOTO))
    assert response.status_code == 302
    db.session.rollback()
    return db.session.scalar(select(PurchaseReport.id).order_by(PurchaseReport.id.desc()))


def _waiting(name: str) -> bytes | None:
    return evidence_queue._redis().get(name)


def _all_done(timeout: float = 30) -> set[str]:
    """The uploads' states once none is pending (a session worker may hold some a while)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        states = set(db.session.scalars(select(PhotoUpload.state)))
        if "pending" not in states or time.monotonic() > deadline:
            return states
        time.sleep(0.05)


def test_uploads_committed_while_a_message_waits_send_none(key, sent, signed_in, form_url):
    first = _submit(signed_in, form_url)
    assert sent == [first]
    assert _waiting(key) == str(first).encode()
    _submit(signed_in, form_url)
    _submit(signed_in, form_url)
    assert sent == [first]

    # The waiting message starts: it clears the key and takes every upload waiting (one
    # batch, not full: it sends nothing).
    assert evidence.process_upload.run(first) in ("done", "nothing to do")
    assert _waiting(key) is None
    assert _all_done() == {"done"}

    # An upload committed after the task started needs a message of its own.
    fourth = _submit(signed_in, form_url)
    assert sent == [first, fourth]


def test_a_refused_message_leaves_nothing_waiting(key, signed_in, form_url, monkeypatch):
    def broker_down(_celery):
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox, "_connection", broker_down)
    report_id = _submit(signed_in, form_url)
    # Nothing was sent, so the next upload must not count on it; the flush sends it later.
    assert _waiting(key) is None
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.args == [report_id]
    assert message.sent_at is None
    assert "broker down" in message.last_error


def test_a_full_batch_keeps_a_message_waiting_for_the_rest(key, sent, asn, stall, monkeypatch):
    monkeypatch.setattr(evidence, "BATCH_SIZE", 1)
    monkeypatch.setattr(evidence, "MAX_BATCHES", 2)
    monkeypatch.setattr(evidence, "_CLAIM_BATCH", evidence._CLAIM_BATCH.limit(1))
    made, announced = [], []
    real_make, real_announce = evidence._make_evidence, evidence_queue.announce

    def make(*args):
        made.append(args[1])
        return real_make(*args)

    def announce(report_id):
        announced.append(len(made))
        real_announce(report_id)

    monkeypatch.setattr(evidence, "_make_evidence", make)
    monkeypatch.setattr(evidence_queue, "announce", announce)
    # Not committed, so a session worker cannot take them before this task does.
    ids = _waiting_reports(asn, stall, [PHOTO] * 4)

    assert evidence.process_upload.run(ids[0]) == "done"
    # Its first batch came back full, so more may wait: a message went out right after it
    # (an idle worker process shares the rest at once), and only one, however many full
    # batches followed.
    assert announced[0] == 1
    assert sent == [ids[0]]
    assert _waiting(key) == str(ids[0]).encode()

    # That message's task (run here; a session worker may take some first) clears the key
    # and takes the uploads this one left at its limit.
    evidence.process_upload.run(ids[0])
    assert _all_done() == {"done"}
