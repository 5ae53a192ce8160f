"""One waiting evidence message for every upload committed while it waits.

On PostgreSQL, promkm_qr.tasks.evidence.process_upload takes batch after batch of the
uploads pending until none is left, so a message that has not started yet will take an
upload committed now: sending one per upload costs the request a publish and the worker a
task that finds nothing to do. With a Redis broker, a key marks such a message. The request
that sets the key sends the message; the others send nothing. The task deletes the key when
it starts, before its first claim, so an upload committed after that sets it again and sends
a message of its own. A task whose claim comes back full announces too: more uploads may
wait, so a message waiting lets an idle worker process share them (with a backlog and no
requests, one message would leave the other processes idle) and carries on after the task
stops at its batch limit. The key expires, so a message the broker lost holds back the next
ones for a minute at most; the hourly requeue_stale_uploads finds any upload left behind.

Elsewhere (SQLite has no SKIP LOCKED; the embedded broker has no Redis), every upload has a
message of its own.
"""

import logging

import redis
from flask import current_app

from promkm_qr import outbox
from promkm_qr.extensions import db

log = logging.getLogger(__name__)

EVIDENCE_TASK = "promkm_qr.evidence.process_upload"

WAITING_SECONDS = 60
_clients: dict = {}


def _waiting_key() -> str | None:
    """The key marking a waiting message, or None where every upload has its own message."""
    celery = current_app.extensions["celery"]
    if not str(celery.conf.broker_url).startswith("redis"):
        return None
    if db.engine.dialect.name != "postgresql":
        return None
    return f"{celery.conf.task_default_queue}:evidence-waiting"


def _redis() -> redis.Redis:
    """A client of the broker's Redis (short timeouts: a request must not hang on it).

    Kept per URL; redis-py's pool opens new connections in a forked child by itself.
    """
    url = current_app.extensions["celery"].conf.broker_url
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return _clients[url]


def announce(report_id: int) -> None:
    """Send the evidence message of a committed upload, unless one waiting will take it."""
    key = _waiting_key()
    if key is not None:
        try:
            if not _redis().set(key, report_id, nx=True, ex=WAITING_SECONDS):
                return
        except redis.RedisError as exc:
            # Cannot tell whether a message waits: send one (a second costs a no-op task).
            log.warning("evidence key unavailable: %s", exc)
            key = None
    if not outbox.send_or_keep(EVIDENCE_TASK, report_id) and key is not None:
        # Nothing was sent: the next upload must not count on this message.
        _forget(key)


def clear() -> None:
    """No message waits any more: the task calls this before its first claim."""
    key = _waiting_key()
    if key is not None:
        _forget(key)


def _forget(key: str) -> None:
    try:
        _redis().delete(key)
    except redis.RedisError as exc:
        # Redis is the broker: no message goes out until it is back, and the key expires.
        log.warning("evidence key not deleted: %s", exc)
