"""What a submission asks the database, and settings read once but never stale."""

import contextlib

from sqlalchemy import event, select

from promkm_qr import outbox
from promkm_qr.dashboard.settings import current_values
from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, Setting
from promkm_qr.reference import get_setting
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.conftest import csrf_token, login
from tests.factories import make_staff


@contextlib.contextmanager
def statements():
    """The SQL statements the app's engine runs inside the block."""
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_submission_reads_settings_once_and_nothing_back_after_its_commit(signed_in, form_url):
    data = report_data(open_form(signed_in, form_url), jpeg_bytes(400, 300))
    with statements() as seen:
        response = post(signed_in, form_url, data)
    assert response.status_code == 302 and "/asn/laporan/" in response.headers["Location"]
    # One read of all settings (the session check's query reads the staff limits beside).
    assert sum("FROM settings" in s and "user_sessions" not in s for s in seen) == 1
    # The session's row and its user in one query, before anything; no other read of users.
    assert sum("FROM user_sessions JOIN users" in s for s in seen) == 1
    assert not any("FROM users" in s for s in seen)
    # A photo's message goes straight to the broker: the outbox keeps only a refused one.
    assert not any("outbox" in s for s in seen)
    # The form key is left to the unique constraint, not looked up first.
    assert not any("FROM purchase_reports" in s for s in seen)
    # 10 (one of them the audit chain's lock); was 17 before the settings were cached.
    assert len(seen) <= 10, "\n".join(seen)


def test_settings_are_read_once_per_transaction(app):
    with statements() as seen:
        assert get_setting("report_ceiling") == 5_000_000
        assert get_setting("report_max_age_days") == 7
        assert get_setting("no_such_setting") is None
        db.session.commit()
        assert get_setting("photo_required") is True
    assert sum("FROM settings" in s for s in seen) == 2


def test_a_setting_changed_in_the_session_is_read_back_at_once(app):
    assert get_setting("report_ceiling") == 5_000_000
    db.session.get(Setting, "report_ceiling").value = 1_000_000
    assert get_setting("report_ceiling") == 1_000_000
    db.session.merge(Setting(key="report_max_age_days", value=3))
    assert get_setting("report_max_age_days") == 3
    db.session.rollback()
    assert get_setting("report_ceiling") == 5_000_000


def test_a_ceiling_saved_by_staff_applies_to_the_next_submission(app, signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    assert get_setting("report_ceiling") == 5_000_000  # cached in this test's transaction
    staff = app.test_client()
    make_staff("admin", username="admin")
    login(staff, "dinas", "admin")
    form = {
        **current_values(),
        "csrf_token": csrf_token(staff, "/dinas/pengaturan"),
        "report_ceiling": "Rp20.000",
    }
    assert staff.post("/dinas/pengaturan", data=form).status_code == 302
    # The test client commits this test's transaction before each request, as requests end.
    assert get_setting("report_ceiling") == 20_000
    response = post(signed_in, form_url, report_data(tokens, jpeg_bytes(400, 300)))
    assert response.status_code == 400
    assert "Rp20.000" in response.get_data(as_text=True)


def test_sent_messages_are_marked_without_reading_them_back(app, monkeypatch):
    sent = []
    monkeypatch.setattr(outbox, "_connection", lambda _celery: None)
    monkeypatch.setattr(
        app.extensions["celery"], "send_task", lambda task, args, **_kw: sent.append(args)
    )
    messages = [outbox.enqueue("promkm_qr.outbox.flush", n) for n in (1, 2, 3)]
    db.session.commit()
    with statements() as seen:
        outbox.send_pending(messages)
    assert sent == [[1], [2], [3]]
    # One UPDATE marks the three sent; nothing is read back.
    assert [s.split()[0] for s in seen if "outbox" in s] == ["UPDATE"]
    assert all(m.sent_at is not None for m in db.session.scalars(select(OutboxMessage)))
