"""A worker killed (SIGKILL) in the middle of a batch: what it sent stays sent, at most the
message it was sending goes twice, and the rest is delivered once its lease ends."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import Notification, OutboxMessage
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import compose
from promkm_qr.notifications.delivery import LEASE, release_due
from tests.factories import make_asn, make_merchant, make_report, make_stall
from tests.notifications.workers import flush_until_received, no_quiet_hours, worker_env
from tests.support.worker import Worker

MERCHANTS = 12


def _statuses() -> dict[int, str]:
    db.session.rollback()  # a new snapshot
    rows = db.session.execute(
        select(Notification.id, Notification.status).where(Notification.channel == "whatsapp")
    )
    return dict(rows.all())


def _wait(condition, timeout: float, what: str, flush: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        if flush:  # a task sent before the new worker bound its queue may be dropped
            db.session.execute(update(OutboxMessage).values(sent_at=None))
            db.session.commit()
            outbox.flush()
        time.sleep(1)


@pytest.mark.worker
def test_a_killed_worker_leaves_at_most_one_message_in_doubt(
    app, session_env, cloud_api, tmp_path, monkeypatch
):
    asn, day_before = make_asn(), utcnow() - timedelta(days=1)
    phones = [f"+62812{n:08d}" for n in range(1, MERCHANTS + 1)]
    for phone in phones:
        merchant = make_merchant(phone="0" + phone[3:])
        make_report(asn, make_stall(owner=merchant), 25_000, day_before)
    no_quiet_hours()
    # The batch's task goes to this test's queue from the start: the suite's shared worker,
    # if one runs, would otherwise take it first.
    env = worker_env(app, session_env, cloud_api, monkeypatch)
    now = utcnow()
    compose.store(compose.merchant_digests(now), now)
    assert len(_statuses()) == MERCHANTS  # one batch, one task
    cloud_api.delay = 0.5  # each answer late: the worker is killed while waiting for one
    with (tmp_path / "worker.log").open("w+b") as log:
        worker = Worker(env, log=log)
        try:
            flush_until_received(cloud_api)
            _wait(lambda: len(cloud_api.requests) >= 4, 30, "the batch stopped early")
            worker.kill()
        finally:
            worker.stop()
    statuses = _statuses()
    sent = [row_id for row_id, status in statuses.items() if status == "sent"]
    assert 0 < len(sent) < MERCHANTS  # killed mid-batch
    # Every message the API received but the database does not hold as sent is in doubt.
    assert len(cloud_api.requests) - len(sent) <= 1
    assert set(statuses.values()) == {"sent", "sending"}

    # The lease of the dead worker's rows runs out; another worker delivers them.
    cloud_api.delay = 0
    assert release_due(utcnow() + LEASE + timedelta(seconds=1)) == MERCHANTS - len(sent)
    with (tmp_path / "worker2.log").open("w+b") as log:
        worker = Worker(env, log=log)
        try:
            everything_sent = lambda: set(_statuses().values()) == {"sent"}  # noqa: E731
            _wait(everything_sent, 90, "not all delivered", flush=True)
            time.sleep(2)  # any second copy of a task has had time to run
        finally:
            worker.stop()
    received = Counter(request["to"] for request in cloud_api.requests)
    assert set(received) == set(phones)  # none lost
    assert sum(received.values()) - MERCHANTS <= 1  # at most the one in doubt went twice
    assert max(received.values()) <= 2 and cloud_api.malformed == []
