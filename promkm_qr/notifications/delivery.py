"""Deliver queued reminders: quiet hours, opt-outs and daily caps first, then the channel.

A row is sent at most once: the worker takes it only while it is queued and due, under a
row lock (PostgreSQL), and records "sent" only with the channel's message id. A failure the
channel may recover from is retried with growing pauses (release_due queues it again); a
refused number is marked on the account and never retried.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update

from promkm_qr import outbox
from promkm_qr.core.dates import WIB, to_wib
from promkm_qr.extensions import db
from promkm_qr.models import Notification, User
from promkm_qr.notifications.channels import Refused, Retry
from promkm_qr.notifications.store import BATCH, DELIVER_TASK
from promkm_qr.reference import get_setting

# Pauses before the 2nd, 3rd, ... attempt; after the last one the row is failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


def _adapter(channel: str):
    """The send function of a channel (imported late: only a worker needs them)."""
    if channel == "whatsapp":
        from promkm_qr.notifications import whatsapp

        return whatsapp.send
    from promkm_qr.notifications import mail

    return mail.send


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _naive_utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def quiet_until(now: datetime) -> datetime | None:
    """The end of the quiet hours (naive UTC) when `now` falls in them, else None."""
    settings = get_setting("reminders")
    start, end = _clock(settings["quiet_start"]), _clock(settings["quiet_end"])
    local = to_wib(now)
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if clock >= end and start > end else local.date()
    return _naive_utc(datetime.combine(day, end, tzinfo=WIB))


def _day_start(now: datetime) -> datetime:
    """Midnight WIB of now's day, as naive UTC."""
    return _naive_utc(datetime.combine(to_wib(now).date(), time(), tzinfo=WIB))


def _over_cap(row: Notification, now: datetime) -> bool:
    """Whether the recipient already got the day's most messages on this channel."""
    sent = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == row.user_id,
            Notification.channel == row.channel,
            Notification.status == "sent",
            Notification.sent_at >= _day_start(now),
        )
    )
    return sent >= get_setting("reminders")["daily_cap"]


def _deliver_one(row: Notification, user: User, now: datetime) -> None:
    """Decide and, when allowed, send one row; the row's new status is set, not committed."""
    prefs = user.notification_prefs or {}
    if row.kind in (prefs.get("kinds_off") or ()) or row.channel in (
        prefs.get("channels_off") or ()
    ):
        row.status, row.last_error = "suppressed", "opted out"
        return
    held = quiet_until(now)
    if held is not None:
        row.status, row.send_after = "held", held
        return
    if _over_cap(row, now):
        row.status, row.last_error = "suppressed", "daily cap"
        return
    row.attempts += 1
    try:
        row.provider_id = _adapter(row.channel)(row, user)
    except Refused as exc:
        row.status, row.last_error = "failed", f"refused: {exc}"
        if row.channel == "whatsapp":
            user.whatsapp_refused_at = now
        return
    except Retry as exc:
        row.last_error = str(exc)[:500]
        if row.attempts > len(BACKOFF):
            row.status = "failed"
        else:
            row.send_after = now + BACKOFF[row.attempts - 1]
        return
    row.status, row.sent_at, row.send_after, row.last_error = "sent", now, None, None


def deliver(ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Deliver the rows among `ids` that are still queued and due; counts per new status."""
    counts: dict[str, int] = {}
    for row_id in ids:
        now_row = now or datetime.now(UTC).replace(tzinfo=None)
        row = db.session.scalar(
            select(Notification)
            .where(Notification.id == row_id, Notification.status == "queued")
            .where(Notification.send_after.is_(None) | (Notification.send_after <= now_row))
            .with_for_update(skip_locked=True)
        )
        if row is None:
            db.session.rollback()
            continue
        _deliver_one(row, db.session.get(User, row.user_id), now_row)
        counts[row.status] = counts.get(row.status, 0) + 1
        db.session.commit()
    return counts


def release_due(now: datetime | None = None) -> int:
    """Queue again the held and retried rows whose time has come; how many."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    due = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.status.in_(("queued", "held")))
            .where(Notification.send_after <= now)
            .order_by(Notification.id)
            .limit(5000)
        )
    )
    if not due:
        return 0
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_(due))
        .values(status="queued", send_after=None)
    )
    messages = [outbox.enqueue(DELIVER_TASK, due[i : i + BATCH]) for i in range(0, len(due), BATCH)]
    db.session.commit()
    outbox.send_pending(messages)
    return len(due)
