"""Webhooks: subscriptions, events recorded with the change that causes them, signatures.

An event makes one delivery row per subscribed URL and one outbox message per delivery, in
the caller's transaction (promkm_qr/outbox.py sends it after commit or at the next flush).
Signatures follow the Standard Webhooks specification: `webhook-id`, `webhook-timestamp`
and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the
base64-decoded part of the subscription's `whsec_` secret.
"""

import base64
import hashlib
import hmac
import json
import secrets

from sqlalchemy import insert, select

from promkm_qr import audit, outbox
from promkm_qr.api.paging import iso_wib
from promkm_qr.extensions import db
from promkm_qr.models import WebhookDelivery, WebhookSubscription
from promkm_qr.models.base import utcnow

EVENTS = (
    "report.confirmed",
    "report.disputed",
    "report.verified",
    "report.rejected",
    "documents.month_ready",
    "roster.imported",
)
DELIVER_TASK = "promkm_qr.webhooks.deliver"
DELIVERIES = WebhookDelivery.__table__
SECRET_PREFIX = "whsec_"  # noqa: S105 (the specification's marker, not a secret)


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: whsec_ + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header value for a message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed) for a delivery: the same on every attempt."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def subscribe(url: str, events: list[str], actor_id: int | None) -> tuple[int, str]:
    """Add a subscription; returns (id, secret), the secret shown to the admin this once."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValueError(f"unknown event: {', '.join(unknown) or '(none)'}")
    secret = new_secret()
    subscription = WebhookSubscription(
        url=url, events=sorted(set(events)), secret=secret, created_by_id=actor_id
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record(
        "webhook.subscribed",
        "webhook_subscription",
        subscription.id,
        actor_id=actor_id,
        data={"events": subscription.events},
    )
    db.session.commit()
    return subscription.id, secret


def emit(event: str, data: dict) -> list[outbox.Message]:
    """Record an event for every active subscription to it, in the caller's transaction.

    `data` holds ids and states only: a receiver that needs personal data reads it through
    the API with its own token, where the read is audited.
    """
    subscriptions = db.session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.paused_at.is_(None), WebhookSubscription.removed_at.is_(None)
        )
    ).all()
    targets = [s for s in subscriptions if event in s.events]
    if not targets:
        return []
    message_id = "msg_" + secrets.token_hex(12)
    payload = {"type": event, "timestamp": iso_wib(utcnow()), "data": data}
    # One INSERT for the deliveries and one for their outbox messages, whatever the number
    # of subscriptions: an event is written inside the change that causes it.
    rows = [
        {"subscription_id": s.id, "message_id": message_id, "event": event, "payload": payload}
        for s in targets
    ]
    added = db.session.execute(insert(DELIVERIES).values(rows).returning(DELIVERIES.c.id))
    return outbox.enqueue_each(DELIVER_TASK, sorted(added.scalars()))


def send_again(delivery_id: int, actor_id: int | None) -> bool:
    """Queue a delivery once more (the admin's "send again"); its log keeps counting."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return False
    delivery.state = "pending"
    message = outbox.enqueue(DELIVER_TASK, delivery.id)
    audit.record("webhook.resent", "webhook_delivery", delivery.id, actor_id=actor_id)
    db.session.commit()
    outbox.send_pending([message])
    return True
