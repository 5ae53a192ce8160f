"""The database lost right after a submission committed: the answer is still the receipt.

The report, its upload and its outbox message are recorded; only marking the message sent
fails, so the message waits for the flush instead of the ASN being told nothing was saved.
"""

import contextlib

from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, PhotoUpload, PurchaseReport
from promkm_qr.storage import get_storage
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data


@contextlib.contextmanager
def _database_gone_after_the_submission_commits():
    """Every outbox query fails once the transaction carrying a new upload has committed."""
    target, engine = db.session.registry().__class__, db.engine
    armed = {"on": False}

    def remember(session, _context):
        if any(isinstance(obj, PhotoUpload) for obj in session.new):
            session.info["upload_flushed"] = True

    def arm(session):
        if session.info.pop("upload_flushed", False):
            armed["on"] = True

    def fail(_conn, _cursor, statement, *_args):
        # Any statement on the table: reading the message back or marking it sent.
        if armed["on"] and ("FROM outbox" in statement or "UPDATE outbox" in statement):
            raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    event.listen(target, "after_flush", remember)
    event.listen(target, "after_commit", arm)
    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)
        event.remove(target, "after_commit", arm)
        event.remove(target, "after_flush", remember)


def test_the_receipt_is_shown_and_the_message_waits_for_the_flush(signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    with _database_gone_after_the_submission_commits():
        response = post(signed_in, form_url, report_data(tokens, jpeg_bytes(400, 300)))
    assert response.status_code == 302
    assert "/asn/laporan/" in response.headers["Location"]
    db.session.rollback()
    report = db.session.scalars(select(PurchaseReport)).one()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.args == [report.id] and message.sent_at is None
    upload = db.session.scalars(select(PhotoUpload)).one()
    assert get_storage().exists(upload.upload_key)
