"""WhatsApp Business Cloud API: one approved template message per reminder.

The request is Meta's documented format (POST {base}/{phone-number-id}/messages with a
Bearer token). A message counts as sent only when the answer carries a message id; a 5xx or
a network failure is retried later; an answer that refuses the recipient (error 131026,
"message undeliverable", or a 400 naming the recipient) marks the number refused.
"""

import json
import urllib.error
import urllib.request

from flask import current_app

from promkm_qr.notifications.channels import Refused, Retry
from promkm_qr.notifications.phones import to_e164
from promkm_qr.reference import get_setting

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


def send(notification, user) -> str:
    """Send one reminder; the API's message id. Raises Retry or Refused."""
    config = current_app.config
    try:
        to = to_e164(user.phone or "")
    except ValueError as exc:
        raise Refused(f"not an Indonesian mobile: {exc}") from exc
    params = notification.params or {}
    templates = get_setting("reminders")["whatsapp_templates"]
    template = templates.get(params.get("template"), params.get("template"))
    body = payload(to, template, notification.locale, params.get("values", []))
    base = config.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise Retry(f"WHATSAPP_API_URL is not http(s): {base}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        f"{base}/{config['WHATSAPP_PHONE_NUMBER_ID']}/messages",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {config['WHATSAPP_TOKEN']}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read() or b"{}")
        except ValueError:
            answer = {}
        code = _error_code(answer)
        if code in REFUSED_CODES or (exc.code == 400 and "recipient" in json.dumps(answer)):
            raise Refused(f"HTTP {exc.code}, error {code}") from exc
        raise Retry(f"HTTP {exc.code}, error {code}") from exc
    except (OSError, ValueError) as exc:
        raise Retry(str(exc)[:200]) from exc
    messages = answer.get("messages") or []
    message_id = messages[0].get("id") if messages else None
    if not message_id:
        raise Retry("no message id in the answer")
    return message_id
