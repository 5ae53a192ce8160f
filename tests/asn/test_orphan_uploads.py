"""Uploads left behind: by a submission whose transaction broke, or by a lost broker message.

Failing before the commit certainly recorded nothing, so the request deletes its upload at
once. A commit cut off with its connection may have happened on the server, so the upload is
kept and the hourly sweep deletes it once no upload row names it. An upload still pending
after an hour (its message lost by the broker) is sent for processing again.
"""

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, PhotoUpload, PurchaseReport
from promkm_qr.models.base import utcnow
from promkm_qr.reports.evidence_queue import EVIDENCE_TASK
from promkm_qr.storage import get_storage
from promkm_qr.tasks.evidence import requeue_stale_uploads, sweep_orphan_uploads
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data

SMALL = jpeg_bytes(400, 300)


@pytest.fixture(autouse=True)
def sent(app, tmp_path, monkeypatch) -> list:
    """A storage directory of this test's own, so files other tests left do not count.

    Messages are noted, not sent: the session's worker (if one runs) sees another storage
    directory and would mark these uploads failed, perhaps after the next test has reused
    their report ids (SQLite does). Returns the (task, args) of those that would be sent.
    """
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    noted = []
    monkeypatch.setattr(
        outbox, "send_or_keep", lambda task, *args: noted.append((task, list(args))) or True
    )
    return noted


def _uploads(app) -> set[str]:
    root = Path(app.config["STORAGE_DIR"])
    return {p.relative_to(root).as_posix() for p in (root / "uploads").rglob("*") if p.is_file()}


def _connection_lost() -> None:
    raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))


def _refused() -> None:
    raise RuntimeError("commit refused")


@contextlib.contextmanager
def _failing(when: str, error=_connection_lost):
    """Make the transaction that inserts an upload row fail at that INSERT or at its commit."""
    target = db.session.registry().__class__

    def at_statement(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO photo_uploads"):
            if when == "insert":
                error()
            db.session.info["upload_inserted"] = True

    def at_commit(session):
        if session.info.pop("upload_inserted", False):
            error()

    event.listen(db.engine, "before_cursor_execute", at_statement)
    event.listen(target, "before_commit", at_commit)
    try:
        yield
    finally:
        event.remove(target, "before_commit", at_commit)
        event.remove(db.engine, "before_cursor_execute", at_statement)
        db.session.info.pop("upload_inserted", None)


def _submit(client, url: str):
    return post(client, url, report_data(open_form(client, url), SMALL))


def test_a_connection_lost_before_the_commit_leaves_no_report_and_no_upload(
    app, signed_in, form_url
):
    before = _uploads(app)
    with _failing("insert"):
        response = _submit(signed_in, form_url)
    assert response.status_code == 503
    assert "Data Anda belum tersimpan" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PurchaseReport.id))) == 0
    assert _uploads(app) == before


def test_a_connection_lost_at_the_commit_keeps_the_upload_for_the_sweep(app, signed_in, form_url):
    recorded = _submit(signed_in, form_url)
    assert recorded.status_code == 302
    with _failing("commit"):
        response = _submit(signed_in, form_url)
    assert response.status_code == 503
    db.session.rollback()
    assert db.session.scalar(select(func.count(PurchaseReport.id))) == 1
    named = set(db.session.scalars(select(PhotoUpload.upload_key)))
    orphans = _uploads(app) - named
    assert len(orphans) == 1  # the outcome was unknown to the request

    assert sweep_orphan_uploads() == 0  # too young: a request may still be about to commit
    assert sweep_orphan_uploads(0) == 1
    assert _uploads(app) == named  # the recorded report's pending upload stays
    assert all(get_storage().exists(key) for key in named)


def test_a_refused_commit_leaves_no_report_and_no_upload(app, signed_in, form_url):
    before = _uploads(app)
    with _failing("commit", _refused), pytest.raises(RuntimeError):
        _submit(signed_in, form_url)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PurchaseReport.id))) == 0
    assert _uploads(app) == before


def test_the_sweep_removes_half_written_files_of_a_dead_process(app):
    storage = Path(app.config["STORAGE_DIR"]) / "uploads" / "2026" / "11"
    storage.mkdir(parents=True, exist_ok=True)
    (storage / ".tmp-abc").write_bytes(b"half a photo")
    with app.app_context():
        assert sweep_orphan_uploads(0) == 1
    assert not (storage / ".tmp-abc").exists()


def test_uploads_pending_for_an_hour_are_sent_again(app, signed_in, form_url, sent):
    for _ in range(3):
        assert _submit(signed_in, form_url).status_code == 302
    db.session.rollback()
    lost, refused, fresh = db.session.scalars(select(PhotoUpload).order_by(PhotoUpload.id))
    hours_ago = utcnow() - timedelta(hours=2)
    lost.created_at = refused.created_at = hours_ago
    # The broker took the first message and lost it; it refused the second, which the outbox
    # keeps for its flush.
    db.session.add(OutboxMessage(task=EVIDENCE_TASK, args=[refused.report_id], attempts=1))
    db.session.commit()
    sent.clear()

    assert requeue_stale_uploads() == 1
    assert sent == [(EVIDENCE_TASK, [lost.report_id])]
    assert fresh.report_id not in [args[0] for _task, args in sent]


def test_the_housekeeping_tasks_are_scheduled_and_registered(app):
    celery = app.extensions["celery"]
    scheduled = {entry["task"] for entry in celery.conf.beat_schedule.values()}
    assert {
        "promkm_qr.outbox.flush",
        "promkm_qr.evidence.requeue_stale_uploads",
        "promkm_qr.evidence.sweep_orphan_uploads",
    } <= scheduled
    assert scheduled <= set(celery.tasks)
