"""E-mail reminders through a real SMTP server on loopback (aiosmtpd)."""

import email
from datetime import datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Notification
from promkm_qr.notifications import compose
from promkm_qr.notifications.delivery import deliver, release_due
from tests.factories import make_asn, make_merchant, make_report, make_stall
from tests.support.servers import free_port

NOW = datetime(2026, 12, 4, 12, 30)  # 19:30 WIB


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a fixed loopback port, which can be stopped and started again."""

    def __init__(self):
        self.inbox, self.port, self.controller = Inbox(), free_port(), None

    def start(self) -> None:
        # A stopped Controller cannot start again (its event loop is closed): a new one.
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(app, monkeypatch):
    server = SmtpServer()
    server.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "MAIL_FROM", "pengingat@madiunkota.go.id")
    yield server
    server.stop()


def _email_row(merchant) -> int:
    make_report(make_asn(), make_stall(owner=merchant), 40_000, NOW - timedelta(days=2))
    compose.store(compose.merchant_digests(NOW), NOW)
    return db.session.scalar(select(Notification.id).where(Notification.channel == "email"))


def test_the_digest_arrives_with_headers_text_html_and_the_link(app, smtp_server):
    inbox = smtp_server.inbox
    merchant = make_merchant(name="Bu Sugeng")
    merchant.email = "sugeng@example.id"
    row_id = _email_row(merchant)
    assert deliver([row_id], NOW) == {"sent": 1}
    (envelope,) = inbox.received
    assert envelope.mail_from == "pengingat@madiunkota.go.id"
    assert envelope.rcpt_tos == ["sugeng@example.id"]
    mail = email.message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "Laporan menunggu konfirmasi"
    assert mail["To"] == "Bu Sugeng <sugeng@example.id>"
    assert mail["From"].addresses[0].addr_spec == "pengingat@madiunkota.go.id"
    row = db.session.get(Notification, row_id)
    assert mail["Message-ID"] == row.provider_id
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text.startswith("1 laporan pembelian menunggu konfirmasi Anda, total Rp40.000")
    assert row.link.endswith("/umkm/")
    assert row.link in text and f'<a href="{row.link}">' in html
    assert "/pemberitahuan/pengaturan" in text and "/pemberitahuan/pengaturan" in html


def test_a_server_that_is_down_delays_the_mail(app, smtp_server):
    merchant = make_merchant()
    merchant.email = "sugeng@example.id"
    row_id = _email_row(merchant)
    smtp_server.stop()
    assert deliver([row_id], NOW) == {"queued": 1}
    smtp_server.start()
    release_due(NOW + timedelta(minutes=1))
    assert deliver([row_id], NOW + timedelta(minutes=1)) == {"sent": 1}
    assert len(smtp_server.inbox.received) == 1
