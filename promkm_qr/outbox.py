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
    swept: bool  # saved as sent already (see enqueue)


# A plain INSERT, not the ORM: every submission makes one, and the unit of work cost more
# than the statement (docs/load.md).
_ADD = insert(OutboxMessage.__table__).returning(OutboxMessage.id)


def enqueue(task: str, *args, swept: bool = False) -> Message:
    """Record a task to send; commit with the change, then call send_pending.

    swept: the work has a sweep of its own that finds it undone (requeue_stale_uploads for
    a photo), so the message is saved as sent and send_pending marks it unsent only if the
    broker refuses it. That saves every submission a second transaction; a process that
    dies between its commit and the send leaves the work to the sweep.
    """
    row = {"task": task, "args": list(args), "sent_at": utcnow() if swept else None}
    return Message(db.session.execute(_ADD, row).scalar_one(), task, row["args"], swept)


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


def _send(message_id: int, task: str, args: list) -> str | None:
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
        log.warning("broker unavailable, outbox message %s kept: %s", message_id, exc)
        return str(exc)[:500]
    return None


# Built once: every submission without a photo marks its message sent (at=None: unsent).
_SET_SENT_AT = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("at"))
)
_MARK_REFUSED = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.id == bindparam("message_id"))
    .values(sent_at=None, attempts=OutboxMessage.attempts + 1, last_error=bindparam("error"))
)


def send_pending(messages: list[Message]) -> bool:
    """Send freshly committed messages (as enqueue made them) now; failures stay for the flush.

    Returns whether the broker took every message.

    A message saved as sent (enqueue's swept) costs nothing more here unless the broker
    refuses it.

    The change that queued them is committed already, so losing the database now must not
    turn the caller's answer into an error: the messages stay unsent and the flush sends
    them (a message the broker took but that is not marked sent goes twice, which the
    idempotent tasks tolerate).
    """
    taken = True
    try:
        sent = []
        for index, message in enumerate(messages):
            error = _send(message.id, message.task, message.args)
            if error is not None:
                taken = False
                db.session.execute(_MARK_REFUSED, {"message_id": message.id, "error": error})
                # Those not tried are not sent either, whatever they were saved as.
                untried = [later.id for later in messages[index + 1 :] if later.swept]
                if untried:
                    db.session.execute(_SET_SENT_AT, {"ids": untried, "at": None})
                break
            if not message.swept:
                sent.append(message.id)
        if sent:
            db.session.execute(_SET_SENT_AT, {"ids": sent, "at": utcnow()})
        db.session.commit()  # no statement at all when every message was saved as sent
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("outbox messages left for the flush: %s", exc)
    return taken


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
        error = _send(message.id, message.task, message.args)
        if error is not None:
            message.attempts += 1
            message.last_error = error
            break
        message.sent_at = utcnow()
        sent += 1
    db.session.commit()
    return sent
