"""Delivery on WhatsApp against the loopback Cloud API: format, retries, refusals, quiet
hours, daily caps and opt-outs."""

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Notification, User
from promkm_qr.notifications import compose
from promkm_qr.notifications.delivery import deliver, release_due
from tests.factories import make_asn, make_merchant, make_report, make_stall
from tests.notifications.workers import set_reminders

NOW = datetime(2026, 12, 4, 12, 30)  # 19:30 WIB


def _waiting(phone: str = "0812-3456-7890", **prefs) -> User:
    merchant = make_merchant(phone=phone)
    merchant.notification_prefs = prefs or None
    make_report(make_asn(), make_stall(owner=merchant), 25_000, NOW - timedelta(days=1))
    return merchant


def _whatsapp_ids() -> list[int]:
    return list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.channel == "whatsapp")
            .order_by(Notification.id)
        )
    )


def _row(row_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, row_id)


def _compose(now=NOW) -> list[int]:
    compose.store(compose.merchant_digests(now), now)
    return _whatsapp_ids()


def test_a_template_message_in_the_documented_format_is_sent_once(app, cloud_api):
    merchant = _waiting()
    (row_id,) = _compose()
    assert deliver([row_id], NOW) == {"sent": 1}
    assert deliver([row_id], NOW) == {}  # a second delivery of the same row sends nothing
    assert cloud_api.malformed == []
    (request,) = cloud_api.requests
    assert request["to"] == "+6281234567890"
    assert request["template"]["name"] == "pengingat_konfirmasi"
    assert request["template"]["language"] == {"code": "id"}
    texts = [p["text"] for p in request["template"]["components"][0]["parameters"]]
    assert texts[:2] == ["1", "Rp25.000"] and texts[-1].endswith("/umkm/")
    row = _row(row_id)
    assert (row.status, row.provider_id, row.attempts) == ("sent", "wamid.TEST1", 1)
    assert row.user_id == merchant.id and row.sent_at == NOW


def test_a_failure_answer_is_retried_after_a_pause(app, cloud_api):
    _waiting()
    (row_id,) = _compose()
    cloud_api.answers = [(503, {"error": {"code": 2, "message": "Service unavailable"}})]
    assert deliver([row_id], NOW) == {"queued": 1}
    row = _row(row_id)
    assert (row.status, row.attempts, row.send_after) == ("queued", 1, NOW + timedelta(minutes=1))
    assert deliver([row_id], NOW) == {}  # not due yet
    assert release_due(NOW + timedelta(seconds=30)) == 0
    assert release_due(NOW + timedelta(minutes=1)) == 1
    assert deliver([row_id], NOW + timedelta(minutes=1)) == {"sent": 1}
    assert len(cloud_api.requests) == 2
    assert _row(row_id).provider_id == "wamid.TEST2"


def test_an_answer_without_a_message_id_is_not_recorded_as_sent(app, cloud_api):
    _waiting()
    (row_id,) = _compose()
    cloud_api.answers = [(200, {"messaging_product": "whatsapp"})]
    assert deliver([row_id], NOW) == {"queued": 1}
    assert _row(row_id).sent_at is None and _row(row_id).provider_id is None


def test_retries_end_in_failed(app, cloud_api):
    _waiting()
    (row_id,) = _compose()
    cloud_api.answers = [(500, {"error": {"code": 1}})] * 5
    at = datetime(2026, 12, 5, 1, 0)  # 08:00 WIB, then every 3 hours until 20:00
    for _attempt in range(5):
        deliver([row_id], at)
        at += timedelta(hours=3)
        release_due(at)
    row = _row(row_id)
    assert (row.status, row.attempts) == ("failed", 5)
    assert len(cloud_api.requests) == 5


def test_a_refused_number_is_marked_and_not_retried(app, cloud_api):
    merchant = _waiting()
    (row_id,) = _compose()
    refusal = {"error": {"code": 131026, "message": "Message undeliverable"}}
    cloud_api.answers = [(400, refusal)]
    assert deliver([row_id], NOW) == {"failed": 1}
    assert release_due(NOW + timedelta(days=1)) == 0
    assert len(cloud_api.requests) == 1
    assert db.session.get(User, merchant.id).whatsapp_refused_at == NOW
    # The next day's digest goes to the app only.
    assert _compose(NOW + timedelta(days=1)) == [row_id]


def test_quiet_hours_hold_messages_until_morning(app, cloud_api):
    _waiting()
    (row_id,) = _compose()
    late = datetime(2026, 12, 4, 15, 30)  # 22:30 WIB
    assert deliver([row_id], late) == {"held": 1}
    morning = datetime(2026, 12, 4, 23, 0)  # 06:00 WIB on 5 December
    assert _row(row_id).send_after == morning
    assert release_due(morning - timedelta(minutes=1)) == 0
    assert release_due(morning) == 1
    assert deliver([row_id], morning) == {"sent": 1}
    assert len(cloud_api.requests) == 1


def test_the_daily_cap_suppresses_what_is_over_it(app, cloud_api):
    set_reminders(daily_cap=1)
    _waiting()
    (first,) = _compose()
    # Another message to the same person the same WIB day.
    (draft,) = compose.merchant_digests(NOW)
    compose.store([replace(draft, subject="another")], NOW)
    (_, second) = _whatsapp_ids()
    assert deliver([first], NOW) == {"sent": 1}
    assert deliver([second], NOW + timedelta(hours=1)) == {"suppressed": 1}
    assert _row(second).last_error == "daily cap"
    (_, _, third) = _compose(NOW + timedelta(days=1))
    assert deliver([third], NOW + timedelta(days=1)) == {"sent": 1}  # a new day


def test_an_opted_out_kind_is_logged_suppressed_and_never_sent(app, cloud_api):
    merchant = _waiting(kinds_off=["merchant_digest"])
    other = _waiting(phone="0813-1111-2222")
    ids = _compose()
    statuses = {(n.user_id, n.channel): n.status for n in db.session.scalars(select(Notification))}
    assert statuses == {
        (merchant.id, "inapp"): "suppressed",
        (merchant.id, "whatsapp"): "suppressed",
        (other.id, "inapp"): "sent",
        (other.id, "whatsapp"): "queued",
    }
    # Stopping WhatsApp after the message was queued still holds it back.
    db.session.get(User, other.id).notification_prefs = {"channels_off": ["whatsapp"]}
    db.session.commit()
    assert deliver(ids, NOW) == {"suppressed": 1}
    assert cloud_api.requests == []


def test_a_claimed_row_is_not_taken_twice_and_a_dead_workers_lease_runs_out(app, cloud_api):
    _waiting()
    (row_id,) = _compose()
    db.session.get(Notification, row_id).status = "sending"
    db.session.get(Notification, row_id).send_after = NOW + timedelta(minutes=15)
    db.session.commit()
    assert deliver([row_id], NOW) == {}  # another worker holds it
    assert release_due(NOW + timedelta(minutes=14)) == 0
    assert release_due(NOW + timedelta(minutes=15)) == 1
    assert deliver([row_id], NOW + timedelta(minutes=15)) == {"sent": 1}
    assert len(cloud_api.requests) == 1
