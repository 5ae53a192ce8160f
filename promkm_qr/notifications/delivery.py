"""Deliver queued reminders: quiet hours, opt-outs and daily caps first, then the channel.

A row is sent once: a worker claims it only while it is queued and due (a conditional
UPDATE, so two copies of the task cannot both take it), and records "sent" only with the
channel's message id. A failure the channel may recover from is retried with growing pauses
(release_due queues it again); a refused number is marked on the account and never retried.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update

from promkm_qr import outbox
from promkm_qr.core.dates import WIB, naive_utc, to_wib, wib_day_start
from promkm_qr.extensions import db
from promkm_qr.models import Notification, User
from promkm_qr.notifications.channels import Refused, Retry
from promkm_qr.notifications.outcomes import Outcomes
from promkm_qr.notifications.store import enqueue_deliveries
from promkm_qr.reference import get_setting

# How long a claimed row stays with its worker; a worker that died leaves it to be queued again.
LEASE = timedelta(minutes=15)
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
    return naive_utc(datetime.combine(day, end, tzinfo=WIB))


def _sent_today(user_ids: set[int], now: datetime) -> dict[tuple[int, str], int]:
    """Messages sent today (WIB) per (recipient, channel), for the daily caps."""
    rows = db.session.execute(
        select(Notification.user_id, Notification.channel, func.count(Notification.id))
        .where(
            Notification.user_id.in_(user_ids),
            Notification.status == "sent",
            Notification.sent_at >= wib_day_start(now),
        )
        .group_by(Notification.user_id, Notification.channel)
    )
    return {(user_id, channel): n for user_id, channel, n in rows}


def _outcome(row: Notification, user: User, now: datetime, limits: dict) -> dict:
    """Decide and, when allowed, send one row; the row's new values (not yet written)."""
    prefs = user.notification_prefs or {}
    if row.kind in (prefs.get("kinds_off") or ()) or row.channel in (
        prefs.get("channels_off") or ()
    ):
        return {"status": "suppressed", "send_after": None, "last_error": "opted out"}
    if limits["held"] is not None:
        return {"status": "held", "send_after": limits["held"]}
    key, sent_today = (row.user_id, row.channel), limits["sent_today"]
    if sent_today.get(key, 0) >= limits["cap"]:
        return {"status": "suppressed", "send_after": None, "last_error": "daily cap"}
    attempts = row.attempts + 1
    try:
        provider_id = _adapter(row.channel)(row, user)
    except Refused as exc:
        return {
            "status": "failed",
            "send_after": None,
            "attempts": attempts,
            "last_error": f"refused: {exc}",
            "refused": row.channel == "whatsapp",
        }
    except Retry as exc:
        retry = attempts <= len(BACKOFF)
        return {
            "status": "queued" if retry else "failed",
            "send_after": now + BACKOFF[attempts - 1] if retry else None,
            "attempts": attempts,
            "last_error": str(exc)[:500],
        }
    sent_today[key] = sent_today.get(key, 0) + 1
    return {
        "status": "sent",
        "send_after": None,
        "attempts": attempts,
        "sent_at": now,
        "provider_id": provider_id,
        "last_error": None,
    }


def deliver(ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Deliver the rows among `ids` that are still queued and due; counts per new status.

    The rows are claimed first (one UPDATE, committed), so a second copy of the task, or
    another worker, finds nothing to send; each row's outcome is written as soon as it is
    known (outcomes.py), so a worker that dies mid-batch leaves at most the message it was
    sending claimed; it goes again when its lease ends.
    """
    now = now or naive_utc()
    claimed = list(
        db.session.scalars(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status == "queued")
            .where(Notification.send_after.is_(None) | (Notification.send_after <= now))
            .values(status="sending", send_after=now + LEASE)
            .returning(Notification.id)
        )
    )
    db.session.commit()
    if not claimed:
        return {}
    rows = db.session.scalars(
        select(Notification).where(Notification.id.in_(claimed)).order_by(Notification.id)
    ).all()
    user_ids = {row.user_id for row in rows}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    limits = {
        "held": quiet_until(now),
        "cap": get_setting("reminders")["daily_cap"],
        "sent_today": _sent_today(user_ids, now),
    }
    # The read ends here (SQLite's lock with it); the objects stay loaded for the sends.
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    counts: dict[str, int] = {}
    outcomes = Outcomes()
    try:
        for row in rows:
            values = _outcome(row, users[row.user_id], now, limits)
            outcomes.write(row, values, now)
            counts[values["status"]] = counts.get(values["status"], 0) + 1
    finally:
        outcomes.close()
        # Written on the other connection: what this session holds is stale.
        for obj in (*rows, *users.values()):
            session.expire(obj)
    return counts


def release_due(now: datetime | None = None) -> int:
    """Queue again the held and retried rows whose time has come, and rows whose worker's
    lease ran out (it died while sending: the message may go twice); how many."""
    now = now or naive_utc()
    due = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.status.in_(("queued", "sending", "held")))
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
    messages = enqueue_deliveries(due)
    db.session.commit()
    outbox.send_pending(messages)
    return len(due)
