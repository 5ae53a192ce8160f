"""E-mail reminders through a real SMTP server on loopback (aiosmtpd), in the clear and
over STARTTLS with a certificate of a CA the test makes."""

import email
import ssl
from contextlib import contextmanager
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
from tests.support.certs import certificate_authority, server_certificate
from tests.support.servers import free_port

NOW = datetime(2026, 12, 4, 12, 30)  # 19:30 WIB


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.received = []
        # Per message: the TLS session's details (cipher, version), None when in the clear.
        self.tls = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        self.tls.append(session.ssl)
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a fixed loopback port, which can be stopped and started again; with a
    TLS context it refuses mail before STARTTLS."""

    def __init__(self, tls_context: ssl.SSLContext | None = None):
        self.inbox, self.port, self.controller = Inbox(), free_port(), None
        self.tls_context = tls_context

    def start(self) -> None:
        # A stopped Controller cannot start again (its event loop is closed): a new one.
        tls = {"tls_context": self.tls_context, "require_starttls": True}
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **(tls if self.tls_context else {})
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def _serving(app, monkeypatch, server: SmtpServer):
    server.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", server.tls_context is not None)
    monkeypatch.setitem(app.config, "MAIL_FROM", "pengingat@madiunkota.go.id")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(app, monkeypatch):
    with _serving(app, monkeypatch, SmtpServer()) as server:
        yield server


@pytest.fixture(scope="module")
def city_ca(tmp_path_factory):
    """The city's internal CA (its certificate and key)."""
    return certificate_authority(tmp_path_factory.mktemp("city-ca"), "Kota Madiun CA")


def _tls(folder, ca, names: str = "DNS:localhost,IP:127.0.0.1") -> ssl.SSLContext:
    """A server's TLS context with a certificate for `names` signed by `ca`."""
    cert, key = server_certificate(folder, ca, names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def tls_smtp_server(app, monkeypatch, tmp_path, city_ca):
    """A server that requires STARTTLS, its certificate signed by the city's CA, which the
    app is told to trust (SMTP_CA_FILE)."""
    monkeypatch.setitem(app.config, "SMTP_CA_FILE", str(city_ca[0]))
    with _serving(app, monkeypatch, SmtpServer(_tls(tmp_path, city_ca))) as server:
        yield server


def _email_row(merchant) -> int:
    make_report(make_asn(), make_stall(owner=merchant), 40_000, NOW - timedelta(days=2))
    compose.store(compose.merchant_digests(NOW), NOW)
    return db.session.scalar(select(Notification.id).where(Notification.channel == "email"))


def _check_digest(inbox, row_id) -> None:
    """The one message received: headers, the plain and HTML parts, the links."""
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


def _sugeng() -> int:
    merchant = make_merchant(name="Bu Sugeng")
    merchant.email = "sugeng@example.id"
    return _email_row(merchant)


def test_the_digest_arrives_with_headers_text_html_and_the_link(app, smtp_server):
    row_id = _sugeng()
    assert deliver([row_id], NOW) == {"sent": 1}
    _check_digest(smtp_server.inbox, row_id)
    assert smtp_server.inbox.tls == [None]  # this server offers no STARTTLS


def test_starttls_with_the_citys_ca_carries_the_whole_message(app, tls_smtp_server):
    row_id = _sugeng()
    assert deliver([row_id], NOW) == {"sent": 1}
    _check_digest(tls_smtp_server.inbox, row_id)
    (tls,) = tls_smtp_server.inbox.tls
    assert tls is not None and tls["cipher"] and tls["ssl_object"].version().startswith("TLS")


@pytest.mark.parametrize(
    "ca_of_server, names",
    [("another CA", "DNS:localhost,IP:127.0.0.1"), ("city CA", "DNS:mail.example.id")],
    ids=["signed-by-an-unknown-ca", "issued-for-another-name"],
)
def test_a_certificate_that_does_not_verify_is_refused_and_the_mail_stays_queued(
    app, monkeypatch, tmp_path, city_ca, ca_of_server, names
):
    monkeypatch.setitem(app.config, "SMTP_CA_FILE", str(city_ca[0]))
    ca = city_ca if ca_of_server == "city CA" else certificate_authority(tmp_path / "ca", "Lain")
    server = SmtpServer(_tls(tmp_path / "server", ca, names))
    with _serving(app, monkeypatch, server):
        row_id = _sugeng()
        assert deliver([row_id], NOW) == {"queued": 1}
        assert server.inbox.received == []
        row = db.session.get(Notification, row_id)
        assert (row.status, row.provider_id, row.sent_at) == ("queued", None, None)
        assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
        # Once the server's certificate is put right the mail goes, once.
        server.stop()
        server.tls_context = _tls(tmp_path / "fixed", city_ca)
        server.start()
        release_due(NOW + timedelta(minutes=1))
        assert deliver([row_id], NOW + timedelta(minutes=1)) == {"sent": 1}
        assert len(server.inbox.received) == 1 and server.inbox.tls[0] is not None


def test_a_message_sent_again_carries_the_same_message_id(app, smtp_server):
    row_id = _sugeng()
    assert deliver([row_id], NOW) == {"sent": 1}
    # As after a worker died before recording the send: the row is queued again.
    db.session.get(Notification, row_id).status = "queued"
    db.session.commit()
    assert deliver([row_id], NOW) == {"sent": 1}
    first, second = (
        email.message_from_bytes(e.content, policy=policy.default)["Message-ID"]
        for e in smtp_server.inbox.received
    )
    assert first == second == db.session.get(Notification, row_id).provider_id
    assert first.endswith("@madiunkota.go.id>")


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
