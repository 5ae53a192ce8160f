"""Each delivered row's outcome, written right after its send, on a connection of its own.

One autocommitted UPDATE per row, so a worker that dies leaves in doubt only the message it
was sending. On PostgreSQL the UPDATE is sent without waiting for its answer, which is read
before the next row's write (the database works while the next message goes out: a
round trip per row, waited for, made a city's digests half again slower), and its commit
does not wait for the WAL flush (synchronous_commit off: a flush per row made them several
times slower). Neither weakens the rule against a dying worker: the UPDATE has left the
worker, whole, before the next send starts, and the server runs and commits what it has
received even when the client is gone; the answer read before the next write reports any
error. Only a crash of the database server itself within a fraction of a second can lose
acknowledged outcomes: those rows stay claimed and go again when their lease ends
(docs/reminders.md, "Exactly once").
"""

import select
from datetime import datetime

from psycopg import OperationalError, pq
from sqlalchemy import bindparam, update

from promkm_qr.extensions import db
from promkm_qr.models import Notification, User

# The columns an outcome sets; a column an outcome leaves alone keeps the row's value.
COLUMNS = ("status", "send_after", "attempts", "last_error", "provider_id", "sent_at")
# Only while this worker still holds the row (its lease has not been taken over).
_PG_ROW = (
    b"UPDATE notifications SET status = $1, send_after = $2, attempts = $3, last_error = $4, "
    b"provider_id = $5, sent_at = $6 WHERE id = $7 AND status = 'sending'"
)
_PG_REFUSED = b"UPDATE users SET whatsapp_refused_at = $1 WHERE id = $2"
_ROW = (
    update(Notification)
    .where(Notification.id == bindparam("row_id"), Notification.status == "sending")
    .values({name: bindparam(f"new_{name}") for name in COLUMNS})
)


def _text(value) -> bytes | None:
    """A parameter in PostgreSQL's text format (the server types it from the column)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ").encode()
    return str(value).encode()


class Outcomes:
    """write(row, values, now) per row, then close()."""

    def __init__(self):
        self.conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.pg, self.pending = None, False
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET synchronous_commit TO off")
            self.pg = self.conn.connection.driver_connection.pgconn

    def write(self, row: Notification, values: dict, now: datetime) -> None:
        """Write one row's outcome (and a refused number's mark on the account)."""
        refused = values.pop("refused", False)
        outcome = [values.get(name, getattr(row, name)) for name in COLUMNS]
        if self.pg is None:
            if refused:
                self.conn.execute(
                    update(User).where(User.id == row.user_id).values(whatsapp_refused_at=now)
                )
            params = {f"new_{name}": value for name, value in zip(COLUMNS, outcome, strict=True)}
            self.conn.execute(_ROW, {"row_id": row.id, **params})
            return
        self.wait()
        if refused:
            self._send(_PG_REFUSED, [now, row.user_id])
            self.wait()
        self._send(_PG_ROW, [*outcome, row.id])

    def _send(self, sql: bytes, params: list) -> None:
        """Send one statement and flush it to the server; its answer is read by wait()."""
        self.pg.send_query_params(sql, [_text(value) for value in params])
        while self.pg.flush():
            select.select([], [self.pg.socket], [])
        self.pending = True

    def wait(self) -> None:
        """Read the answer of the statement sent last; raise if it failed."""
        if not self.pending:
            return
        self.pending, error = False, None
        while True:
            while self.pg.is_busy():
                select.select([self.pg.socket], [], [])
                self.pg.consume_input()
            result = self.pg.get_result()
            if result is None:
                break
            if result.status != pq.ExecStatus.COMMAND_OK:
                error = result.error_message.decode(errors="replace")
        if error:
            raise OperationalError(f"outcome not written: {error}")

    def close(self) -> None:
        """Wait for the last write, and give the connection back as it was lent."""
        try:
            if self.pg is not None:
                self.wait()
                self.conn.exec_driver_sql("RESET synchronous_commit")
        except Exception:
            self.conn.invalidate()  # a broken or unknown state: never back to the pool
            raise
        finally:
            self.conn.close()
