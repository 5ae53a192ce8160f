"""The database lost right after a submission committed: the answer is still the receipt.

The report and its outbox message are recorded; only marking the message sent fails, so
the message waits for the flush instead of the ASN being told nothing was saved. (A photo's
message has no outbox row: it goes to the broker after the commit, and the database is
written to only if the broker refuses it.)
"""

import contextlib

from celery import Celery
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, PhotoUpload, PurchaseReport, Setting
from promkm_qr.reports.evidence_queue import EVIDENCE_TASK
from promkm_qr.reports.submit import RULES_TASK
from promkm_qr.storage import get_storage
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data

# Nothing listens on port 1: connecting is refused at once, as with Redis stopped.
DOWN = "redis://127.0.0.1:1/0"
PHOTO = jpeg_bytes(400, 300)


@contextlib.contextmanager
def _database_gone_after_the_submission_commits():
    """Every outbox query fails once the transaction carrying a new message has committed."""
    target, engine = db.session.registry().__class__, db.engine
    armed = {"on": False}

    def at_statement(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO outbox"):
            db.session.info["message_inserted"] = True
        # Any statement on the table: reading the message back or marking it sent.
        elif armed["on"] and ("FROM outbox" in statement or "UPDATE outbox" in statement):
            raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    def arm(session):
        if session.info.pop("message_inserted", False):
            armed["on"] = True

    event.listen(engine, "before_cursor_execute", at_statement)
    event.listen(target, "after_commit", arm)
    try:
        yield
    finally:
        event.remove(target, "after_commit", arm)
        event.remove(engine, "before_cursor_execute", at_statement)
        db.session.info.pop("message_inserted", None)


def test_the_receipt_is_shown_and_the_message_waits_for_the_flush(signed_in, form_url):
    db.session.get(Setting, "photo_required").value = False
    db.session.commit()
    tokens = open_form(signed_in, form_url)
    with _database_gone_after_the_submission_commits():
        response = post(signed_in, form_url, report_data(tokens))
    assert response.status_code == 302
    assert "/asn/laporan/" in response.headers["Location"]
    db.session.rollback()
    report = db.session.scalars(select(PurchaseReport)).one()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.task, message.args) == (RULES_TASK, [report.id])
    assert message.sent_at is None


def test_a_photo_message_the_broker_refuses_waits_for_the_flush(
    app, signed_in, form_url, monkeypatch
):
    real = app.extensions["celery"]
    real_url = real.conf.broker_url
    real.producer_pool  # noqa: B018  (created now, so it keeps the real broker's URL)
    monkeypatch.setenv("CELERY_BROKER_URL", DOWN)
    down = Celery(app.name, broker=DOWN, set_as_current=False)
    app.extensions["celery"] = down
    try:
        response = post(signed_in, form_url, report_data(open_form(signed_in, form_url), PHOTO))
    finally:
        monkeypatch.setenv("CELERY_BROKER_URL", real_url)
        app.extensions["celery"] = real
        down.close()
    assert response.status_code == 302 and "/asn/laporan/" in response.headers["Location"]
    db.session.rollback()
    message = db.session.scalars(select(OutboxMessage)).one()
    # No row went in with the report; the message was kept when the broker refused it.
    assert (message.task, message.sent_at, message.attempts) == (EVIDENCE_TASK, None, 1)
    assert get_storage().exists(db.session.scalars(select(PhotoUpload.upload_key)).one())
    assert outbox.flush() == 1
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage.sent_at)).one() is not None
