"""Sending one webhook delivery: the address checked when sending, no redirects, a log.

The host is resolved here and the connection goes to the address that was checked, so a
name that resolves to a public address when subscribed and to 10.0.0.1 or 127.0.0.1 later
(DNS rebinding) still cannot reach the city's inside. Production sends only https to global
addresses; development also allows http and loopback, for a receiver on the same machine.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app

from promkm_qr import audit
from promkm_qr.api.webhooks import body_of, sign
from promkm_qr.extensions import db
from promkm_qr.models import WebhookDelivery, WebhookSubscription
from promkm_qr.models.base import utcnow

RETRY_FOR = timedelta(days=1)
TIMEOUT = 10  # seconds for connecting and for the answer


class Refused(Exception):
    """An URL this installation may not send to."""


def _production() -> bool:
    """Whether this installation is production (https and public addresses only)."""
    return current_app.config["PROMKM_ENV"] == "production"


def check_url(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, path, address to connect to) of an URL that may receive events."""
    parts = urlsplit(url)
    allowed = ("https",) if _production() else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise Refused(f"only {' or '.join(allowed)} URLs with a host")
    if parts.username or parts.password:
        raise Refused("no credentials in the URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"the host does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    for address in addresses:
        if not (address.is_global or (address.is_loopback and not _production())):
            raise Refused(f"{address} is not a public address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path, str(addresses[0])


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate of the URL's host name."""

    def __init__(self, host: str, address: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedPlain(http.client.HTTPConnection):
    """Plain HTTP to a checked address (development only)."""

    def __init__(self, host: str, address: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, headers: dict, body: bytes) -> int:
    """POST body to url and return the status; http.client never follows a redirect."""
    scheme, host, port, path, address = check_url(url)
    if scheme == "https":
        connection = _Pinned(
            host, address, port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedPlain(host, address, port, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the receiver's answer is not kept
        return response.status
    finally:
        connection.close()


def backoff(attempts: int) -> float:
    """Seconds before the next attempt: doubled per attempt, at most an hour."""
    return min(current_app.config["WEBHOOK_BACKOFF_SECONDS"] * 2 ** (attempts - 1), 3600.0)


def attempts_of(delivery_id: int) -> int:
    """How many attempts a delivery has had."""
    return db.session.get(WebhookDelivery, delivery_id).attempts


def attempt(delivery_id: int) -> str:
    """Try a delivery once: "delivered", "retry", "failed" (a day has passed) or "skip"."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return "skip"
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if subscription.paused_at or subscription.removed_at:
        return "skip"
    body, timestamp = body_of(delivery), int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "promkm-qr-webhooks",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(subscription.secret, delivery.message_id, timestamp, body),
    }
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        status, error = post(subscription.url, headers, body), None
    except (Refused, OSError, http.client.HTTPException) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    delivery.last_status = status
    if status is not None and 200 <= status < 300:
        delivery.state, delivery.delivered_at, delivery.last_error = "delivered", now, None
        subscription.failing_since = None
        db.session.commit()
        return "delivered"
    delivery.last_error = error or f"HTTP {status}"
    subscription.failing_since = subscription.failing_since or now
    outcome = "retry"
    if now - delivery.created_at >= RETRY_FOR:
        delivery.state, outcome = "failed", "failed"
    if now - subscription.failing_since >= RETRY_FOR and subscription.paused_at is None:
        subscription.paused_at = now
        audit.record("webhook.paused", "webhook_subscription", subscription.id)
        current_app.logger.warning("webhook subscription %s paused after a day of failures",
                                   subscription.id)  # fmt: skip
    db.session.commit()
    return outcome
