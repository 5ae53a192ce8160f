"""Reminders sent to merchants, ASN and staff, one row per message, recipient and channel."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import one_of, utcnow

CHANNELS = ("inapp", "whatsapp", "email")
# queued: waiting for a worker (send_after, when set, is the earliest retry); sending: a
# worker claimed it (send_after is the end of its lease, after which it is queued again);
# held: quiet hours, sent once send_after passes; sent: the channel accepted it (for
# WhatsApp: the API answered with a message id); failed: retries used up or the number
# refused; suppressed: opted out or over the daily cap.
NOTIFICATION_STATES = ("queued", "sending", "held", "sent", "failed", "suppressed")


class Notification(db.Model):
    """One message to one person on one channel; the key makes composing twice harmless."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_channel", "user_id", "channel", "read_at"),
        Index("ix_notifications_due", "status", "send_after"),
        one_of("status", NOTIFICATION_STATES),
        one_of("channel", CHANNELS),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # kind:subject:day:user:channel, e.g. merchant_digest:2026-12-06:41:whatsapp
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    locale: Mapped[str] = mapped_column(String(8), default="id")
    # The text and the template parameters are cleared after the retention period
    # (retention.py); the row stays as the delivery log.
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    params: Mapped[list | None] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    send_after: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
