"""Transactional outbox: work a change triggers is saved with it, then sent to the broker.

A submission never waits for the broker. The message row is committed in the same
transaction as the change; after commit we try to send it at once, and a periodic flush
(beat, or the next request) sends whatever the broker missed. Tasks must tolerate being
sent twice (they are idempotent by design); the row is marked sent only after the broker
accepted it.
"""

import logging
import os
import threading
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage
from promkm_qr.models.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A message enqueue saved: what send_pending needs, with no ORM object to read back."""

    id: int
    task: str
    args: list


# A plain INSERT, not the ORM: every submission makes one, and the unit of work cost more
# than the statement (docs/load.md).
_ADD = insert(OutboxMessage.__table__).returning(OutboxMessage.id)


def enqueue(task: str, *args) -> Message:
    """Record a task to send; commit with the change, then call send_pending."""
    row = {"task": task, "args": list(args)}
    return Message(db.session.execute(_ADD, row).scalar_one(), task, row["args"])


def enqueue_each(task: str, firsts: list) -> list[Message]:
    """One message per value (its only argument), saved in one INSERT; commit, then send."""
    if not firsts:
        return []
    rows = [{"task": task, "args": [v]} for v in firsts]
    added = db.session.execute(
        insert(OutboxMessage.__table__).values(rows).returning(OutboxMessage.id, OutboxMessage.args)
    )
    return [Message(r.id, task, list(r.args)) for r in added]


def send_or_keep(task: str, *args) -> bool:
    """Send a task now, with no change to commit; keep it for the flush if the broker refuses.

    For work that a sweep of its own finds undone (requeue_stale_uploads for a photo):
    nothing is written unless the broker refuses, and a process that dies before the send
    leaves the work to that sweep. Returns whether the broker took it.
    """
    error = _send(task, list(args))
    if error is None:
        return True
    row = {"task": task, "args": list(args), "attempts": 1, "last_error": error}
    try:
        db.session.execute(_ADD, row)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("%s%s left to its sweep: %s", task, args, exc)
    return False


# One broker connection per thread, opened on first use and kept: opening one per message
# (a new Redis connection pool, a queue declaration) cost more than the publish itself.
_local = threading.local()


def _connection(celery):
    """This thread's connection to the app's broker; a forked child opens its own."""
    owner = (os.getpid(), celery)
    previous = getattr(_local, "owner", None)
    if previous != owner:
        if previous and previous[0] == owner[0]:
            _drop_connection()  # another Celery app (tests) has its own broker
        else:
            # A forked child only forgets its copy: closing it would shut the parent's socket.
            _local.connection = None
        _local.owner = owner
    if _local.connection is None:
        # One attempt, no reconnect loop: with the broker down the caller (a web request)
        # must not wait; the periodic flush sends the message later.
        _local.connection = celery.connection_for_write(transport_options={"max_retries": 0})
    return _local.connection


def _drop_connection() -> None:
    """Forget this thread's connection after a failure; the next send opens a fresh one."""
    connection, _local.connection = getattr(_local, "connection", None), None
    if connection is None:
        return
    try:
        connection.release()
    except Exception as exc:  # already broken; nothing else to free
        log.debug("closing a broken broker connection: %s", exc)


def _send(task: str, args: list) -> str | None:
    """Hand one message to the broker; the error if it is down (the message stays unsent)."""
    celery = current_app.extensions["celery"]
    try:
        connection = _connection(celery)
        # ignore_result: send_task would otherwise subscribe to the task's result on the
        # Redis result backend, which retries for 20 s when Redis is down (and never forgets
        # the subscription); nobody reads these results.
        celery.send_task(task, args=args, retry=False, connection=connection, ignore_result=True)
    except Exception as exc:
        _drop_connection()
        log.warning("broker unavailable, %s%s kept: %s", task, args, exc)
        return str(exc)[:500]
    return None


# Built once: every submission without a photo marks its message sent.
_MARK_SENT = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("at"))
)
_MARK_REFUSED = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.id == bindparam("message_id"))
    .values(attempts=OutboxMessage.attempts + 1, last_error=bindparam("error"))
)


def send_pending(messages: list[Message]) -> None:
    """Send freshly committed messages (as enqueue made them) now; failures stay for the flush.

    The change that queued them is committed already, so losing the database now must not
    turn the caller's answer into an error: the messages stay unsent and the flush sends
    them (a message the broker took but that is not marked sent goes twice, which the
    idempotent tasks tolerate).
    """
    try:
        sent = []
        for message in messages:
            error = _send(message.task, message.args)
            if error is not None:
                db.session.execute(_MARK_REFUSED, {"message_id": message.id, "error": error})
                break
            sent.append(message.id)
        if sent:
            db.session.execute(_MARK_SENT, {"ids": sent, "at": utcnow()})
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("outbox messages left for the flush: %s", exc)


def flush(limit: int = 500) -> int:
    """Send unsent messages in order; stop at the first broker failure."""
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for message in rows:
        error = _send(message.task, message.args)
        if error is not None:
            message.attempts += 1
            message.last_error = error
            break
        message.sent_at = utcnow()
        sent += 1
    db.session.commit()
    return sent
