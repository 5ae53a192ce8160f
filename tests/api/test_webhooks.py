"""Webhooks end to end: a real receiver on loopback, a real worker, Standard Webhooks
signatures, retries with back-off, and addresses that are refused."""

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import event, select

from promkm_qr import outbox
from promkm_qr.accounts import roster
from promkm_qr.api import webhook_send, webhooks
from promkm_qr.extensions import db
from promkm_qr.models import WebhookDelivery, WebhookSubscription
from promkm_qr.models.base import utcnow
from promkm_qr.reports.workflow import transition
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_report, make_staff, make_stall


class Receiver:
    """An HTTP server that checks signatures, fails twice, then accepts; it processes each
    message id once (the idempotency check the specification asks of receivers)."""

    def __init__(self, failures: int = 2):
        self.key = b""  # the subscription's secret, once the admin has it
        self.failures, self.requests, self.processed = failures, [], {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.answer(self.headers, body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def valid(self, headers, body: bytes) -> bool:
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest())
        return any(
            hmac.compare_digest(sig.encode(), b"v1," + expected)
            for sig in headers["webhook-signature"].split()
        )

    def answer(self, headers, body: bytes) -> int:
        if not self.valid(headers, body):
            return 401
        if len(self.requests) <= self.failures:
            return 500
        self.processed.setdefault(headers["webhook-id"], json.loads(body))
        return 200


@pytest.mark.worker
@pytest.mark.slow
def test_a_confirmation_reaches_the_receiver_after_two_failures(app, worker):
    receiver = Receiver()
    _id, secret = webhooks.subscribe(receiver.url, ["report.confirmed"], None)
    receiver.key = base64.b64decode(secret.removeprefix("whsec_"))
    report = make_report(make_asn(), make_stall())
    transition(report.id, "confirmed", actor_id=None)
    db.session.commit()  # the event was saved with the confirmation
    assert db.session.scalar(select(WebhookDelivery.state)) == "pending"
    outbox.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.rollback()
        delivery = db.session.scalar(select(WebhookDelivery))
        if delivery.state != "pending":
            break
        time.sleep(0.3)
    try:
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
        assert len(receiver.requests) == 3
        assert all(receiver.valid(headers, body) for headers, body in receiver.requests)
        assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1
        (event,) = receiver.processed.values()
        assert event["type"] == "report.confirmed"
        assert event["data"]["report_id"] == report.id and event["data"]["state"] == "confirmed"
        assert "nip" not in event["data"]
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_private_addresses_are_refused_and_loopback_only_in_development(app):
    with pytest.raises(webhook_send.Refused):
        webhook_send.check_url("http://10.1.2.3/hook")
    with pytest.raises(webhook_send.Refused):
        webhook_send.check_url("http://192.168.1.10/hook")
    with pytest.raises(webhook_send.Refused):
        webhook_send.check_url("file:///etc/passwd")
    assert webhook_send.check_url("http://127.0.0.1:9/hook")[4] == "127.0.0.1"
    app.config["PROMKM_ENV"] = "production"
    try:
        with pytest.raises(webhook_send.Refused):
            webhook_send.check_url("http://127.0.0.1:9/hook")
        with pytest.raises(webhook_send.Refused):
            webhook_send.check_url("https://127.0.0.1:9/hook")
    finally:
        app.config["PROMKM_ENV"] = "development"


def test_a_delivery_to_a_private_address_fails_without_connecting(app):
    webhooks.subscribe("http://10.1.2.3/hook", ["report.disputed"], None)
    report = make_report(make_asn(), make_stall())
    transition(report.id, "disputed", actor_id=None, reason="amount")
    db.session.commit()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert webhook_send.attempt(delivery.id) == "retry"
    assert delivery.attempts == 1 and "not a public address" in delivery.last_error


def test_the_signature_matches_the_specification_example():
    # The example of the Standard Webhooks specification (and its libraries' tests).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert webhooks.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_admin_subscribes_sees_the_secret_once_and_sends_again(app, client):
    make_staff("admin", username="kaitan")
    login(client, "dinas", "kaitan")
    form = {"csrf_token": csrf_token(client, "/dinas/webhook"), "events": ["report.verified"]}
    refused = client.post("/dinas/webhook", data={**form, "url": "http://10.9.8.7/hook"})
    assert refused.status_code == 400 and "10.9.8.7" in refused.get_data(as_text=True)
    made = client.post("/dinas/webhook", data={**form, "url": "http://127.0.0.1:9/hook"})
    assert made.status_code == 200
    (secret,) = [w.split("<")[0] for w in made.get_data(as_text=True).split("<code>")[1:]]
    assert secret.startswith("whsec_")
    assert secret not in client.get("/dinas/webhook").get_data(as_text=True)
    report = make_report(make_asn(), make_stall())
    transition(report.id, "verified", actor_id=None)
    db.session.commit()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert webhook_send.attempt(delivery.id) == "retry"  # nothing listens on port 9
    log = client.get(f"/dinas/webhook/{delivery.subscription_id}").get_data(as_text=True)
    assert delivery.message_id in log and "ConnectionRefusedError" in log
    again = client.post(
        f"/dinas/webhook/pengiriman/{delivery.id}/kirim-ulang",
        data={"csrf_token": csrf_token(client, f"/dinas/webhook/{delivery.subscription_id}")},
    )
    assert again.status_code == 302


def _emit_counting_statements(total: int) -> int:
    """Subscribe URLs up to `total` subscriptions, emit one event, and return how many SQL
    statements the emit ran (its deliveries and outbox messages checked to match)."""
    have = len(db.session.scalars(select(WebhookSubscription.id)).all())
    for n in range(have, total):
        webhooks.subscribe(f"http://127.0.0.1:9/hook{n}", ["report.confirmed"], None)
    seen = []
    engine = db.session.get_bind()
    listener = lambda *args: seen.append(args[2])  # noqa: E731 (args[2]: the statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        messages = webhooks.emit("report.confirmed", {"report_id": total})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    db.session.commit()
    made = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.subscription_id).where(
            WebhookDelivery.payload["data"]["report_id"].as_integer() == total
        )
    ).all()
    assert len({r.subscription_id for r in made}) == total
    assert sorted(m.args[0] for m in messages) == sorted(r.id for r in made)
    return len(seen)


def test_an_event_costs_the_same_statements_for_one_or_many_subscriptions(app):
    assert _emit_counting_statements(1) == _emit_counting_statements(6)


def test_a_roster_import_emits_counts_only(app):
    webhooks.subscribe("http://127.0.0.1:9/hook", ["roster.imported"], None)
    body = (
        "NIP;Nama;OPD;Kelas Jabatan;Golongan;TPP\n"
        "198609262015051001;Rini;Dinas Kesehatan;Pelaksana;III/a;\n"
    )
    result = roster.import_roster("roster.csv", body.encode())
    db.session.commit()
    assert result.created == 1
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.event == "roster.imported"
    assert delivery.payload["data"]["created"] == 1 and delivery.payload["data"]["on_roster"] == 1
    assert "198609262015051001" not in json.dumps(delivery.payload)


def test_a_day_of_failures_fails_the_delivery_and_pauses_the_subscription(app):
    subscription_id, _secret = webhooks.subscribe(
        "http://127.0.0.1:9/hook", ["report.verified"], None
    )
    report = make_report(make_asn(), make_stall())
    transition(report.id, "verified", actor_id=None)
    db.session.commit()
    delivery = db.session.scalar(select(WebhookDelivery))
    subscription = db.session.get(WebhookSubscription, subscription_id)
    long_ago = utcnow() - timedelta(days=1, minutes=1)
    delivery.created_at = subscription.failing_since = long_ago
    db.session.commit()
    assert webhook_send.attempt(delivery.id) == "failed"
    assert delivery.state == "failed" and subscription.paused_at is not None
    # A paused subscription gets no new events until an admin resumes it.
    transition(make_report(make_asn(), make_stall()).id, "verified", actor_id=None)
    db.session.commit()
    assert db.session.query(WebhookDelivery).count() == 1
