"""WhatsApp Business Cloud API: one approved template message per reminder.

The request is Meta's documented format (POST {base}/{phone-number-id}/messages with a
Bearer token). A message counts as sent only when the answer carries a message id; a 5xx or
a network failure is retried later; an answer that refuses the recipient (error 131026,
"message undeliverable", or a 400 naming the recipient) marks the number refused.
"""

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from flask import current_app

from promkm_qr.notifications.channels import Refused, Retry
from promkm_qr.notifications.phones import to_e164

# Error codes of the Cloud API that mean this number cannot receive messages.
REFUSED_CODES = {131026, 131021, 131030, 1013}
TIMEOUT = 15


def payload(to: str, template: str, language: str, values: list[str]) -> dict:
    """The template message body as the Cloud API documents it."""
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
            ],
        },
    }


def _error_code(answer: dict) -> int | None:
    error = answer.get("error") or {}
    return error.get("code")


# One kept-alive connection per thread: a TLS handshake per message to the Cloud API cost
# more than the message. A connection idle longer than this is opened again, not reused
# (servers close idle ones, and a failed reuse would delay the message to its retry).
_local = threading.local()
IDLE = 20.0


def _connection(base: str) -> tuple[http.client.HTTPConnection, str]:
    """This thread's connection to the API's host, and the base path."""
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http"):
        raise Retry(f"WHATSAPP_API_URL is not http(s): {base}")
    key = (parts.scheme, parts.netloc)
    kept = getattr(_local, "kept", None)
    if kept and kept[0] == key and time.monotonic() - kept[2] < IDLE:
        return kept[1], parts.path
    if kept:
        kept[1].close()
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    _local.kept = (key, kind(parts.netloc, timeout=TIMEOUT), time.monotonic())
    return _local.kept[1], parts.path


def close() -> None:
    """Close this thread's kept connection (tests, before their server stops)."""
    kept, _local.kept = getattr(_local, "kept", None), None
    if kept:
        kept[1].close()


def _post(base: str, path: str, token: str, body: dict) -> tuple[int, dict]:
    """POST JSON; (HTTP status, answer). Raises Retry when no answer came."""
    connection, prefix = _connection(base)
    try:
        connection.request(
            "POST",
            f"{prefix.rstrip('/')}/{path}",
            body=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        _local.kept = None
        raise Retry(str(exc)[:200] or type(exc).__name__) from exc
    _local.kept = (_local.kept[0], connection, time.monotonic())
    try:
        return response.status, json.loads(raw or b"{}")
    except ValueError:
        return response.status, {}


def send(notification, user) -> str:
    """Send one reminder; the API's message id. Raises Retry or Refused."""
    config = current_app.config
    try:
        to = to_e164(user.phone or "")
    except ValueError as exc:
        raise Refused(f"not an Indonesian mobile: {exc}") from exc
    params = notification.params or {}
    body = payload(to, params.get("template"), notification.locale, params.get("values", []))
    base = config.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
    status, answer = _post(
        base, f"{config['WHATSAPP_PHONE_NUMBER_ID']}/messages", config["WHATSAPP_TOKEN"], body
    )
    if status >= 300:
        code = _error_code(answer)
        if code in REFUSED_CODES or (status == 400 and "recipient" in json.dumps(answer)):
            raise Refused(f"HTTP {status}, error {code}")
        raise Retry(f"HTTP {status}, error {code}")
    messages = answer.get("messages") or []
    message_id = messages[0].get("id") if messages else None
    if not message_id:
        raise Retry("no message id in the answer")
    return message_id
