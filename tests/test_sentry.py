"""Errors go to Sentry only when SENTRY_DSN is set, without personal data."""

import gzip
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import brotli
import pytest
import sentry_sdk

from tests.faults.conftest import other_app


class _Collector(BaseHTTPRequestHandler):
    """A stand-in Sentry server on loopback that keeps every envelope it is sent."""

    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def sentry_server():
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: the SDK is off again for the rest of the session
    server.shutdown()
    server.server_close()


def _boom_app(config):
    """An app with one route that fails while handling a form with personal data."""
    context = other_app({"WTF_CSRF_ENABLED": False, "PROPAGATE_EXCEPTIONS": False, **config})
    application = context.__enter__()

    @application.post("/boom")
    def boom():
        raise RuntimeError("something broke")

    return context, application


def test_nothing_is_sent_without_a_dsn(app, sentry_server):
    context, application = _boom_app({"SENTRY_DSN": None})
    try:
        application.test_client().post("/boom", data={"nik": "3577010101900001"})
    finally:
        context.__exit__(None, None, None)
    assert not sentry_sdk.get_client().is_active()
    assert _Collector.received == []


def test_an_error_is_sent_without_personal_data(app, sentry_server):
    dsn = f"http://publickey@127.0.0.1:{sentry_server.server_port}/1"
    context, application = _boom_app({"SENTRY_DSN": dsn})
    try:
        answer = application.test_client().post(
            "/boom", data={"nik": "3577010101900001", "phone": "081234567890"}
        )
        assert answer.status_code == 500
        sentry_sdk.flush(timeout=10)
    finally:
        context.__exit__(None, None, None)
    sent = b"".join(_Collector.received)
    assert b"something broke" in sent
    assert b"3577010101900001" not in sent and b"081234567890" not in sent
