"""The in-app channel: a person's own reminders, the unread count, marking them read."""

from sqlalchemy import func, select, update

from promkm_qr.extensions import db
from promkm_qr.models import Notification
from promkm_qr.models.base import utcnow

_MINE = (Notification.channel == "inapp", Notification.status == "sent")


def unread_count(user_id: int) -> int:
    """How many in-app reminders the person has not marked read."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None), *_MINE
        )
    )


def latest(user_id: int, limit: int = 50) -> list[dict]:
    """The person's newest in-app reminders as plain data (a body past retention is gone)."""
    rows = db.session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.subject,
            Notification.body,
            Notification.link,
            Notification.created_at,
            Notification.read_at,
        )
        .where(Notification.user_id == user_id, *_MINE)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [row._asdict() for row in rows]


def mark_all_read(user_id: int) -> int:
    """Mark every unread in-app reminder of the person read; how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), *_MINE)
        .values(read_at=utcnow())
    )
    return result.rowcount
