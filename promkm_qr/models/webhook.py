"""Webhook subscriptions of other systems and the log of every delivery to them."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import one_of, utcnow

DELIVERY_STATES = ("pending", "delivered", "failed")


class WebhookSubscription(db.Model):
    """An URL that receives the events it subscribed to, signed with its own secret."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    # The signing secret ("whsec_" + base64) must be kept to sign: shown once, never listed.
    secret: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set at the first failed attempt, cleared by a success; a day of failures pauses it.
    failing_since: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]


class WebhookDelivery(db.Model):
    """One event for one subscription: its payload, attempts and outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (one_of("state", DELIVERY_STATES),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # No index yet: tests/test_schema.py compares SQLite's index list with revision 0011's.
    # The delivery log is read per subscription.
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    # The Standard Webhooks message id: the same on every attempt, for the receiver's
    # idempotency check.
    message_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
