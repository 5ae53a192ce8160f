"""Signed-in sessions kept on the server, so each can be listed, timed out and ended."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import utcnow


class UserSession(db.Model):
    """One sign-in on one browser.

    The browser's signed cookie holds a random token; only its SHA-256 is stored here, so a
    copy of this table cannot be replayed as a session. The address is stored already masked
    (a /24 or /48 network): it is personal data, kept only to let a person recognise a session.
    """

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The account's session_version at sign-in: a later bump (new password, deactivation,
    # second factor reset) ends this session without touching the row.
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most once a minute, so idle time is known to the minute.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    device: Mapped[str] = mapped_column(String(64), default="")
    client: Mapped[str | None] = mapped_column(String(64))
