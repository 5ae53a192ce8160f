"""Who is told what today: merchants with reports waiting, ASN short of their quota.

Each finder is one grouped query over the reports (or the quota figures the dashboard uses),
so the whole city's digests cost a few statements, not one per stall.
"""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import chain

from sqlalchemy import case, func, select

from promkm_qr.core.dates import to_wib
from promkm_qr.dashboard.compliance import below_quota
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, Setting, Stall, User
from promkm_qr.notifications import texts
from promkm_qr.notifications.staff import remember_queue, staff_alerts
from promkm_qr.notifications.store import (
    RECIPIENT_COLUMNS,
    Draft,
    Recipient,
    link,
    locale_of,
    store,
)
from promkm_qr.reference import get_setting

# The setting row that remembers the last day each daily composition ran (not an admin
# setting: the compositions write it).
LAST_RUN = "reminders_last_run"


def merchant_digests(now: datetime) -> Iterator[Draft]:
    """A digest per merchant with reports waiting for confirmation; none for the others.

    The figures are read at once (small tuples); the texts are made as store() takes them,
    so a whole city's digests never sit in memory together.

    A report is in the last call when it reaches `confirm_within_days` within a day, after
    which the daily sweep sends it to the review queue.
    """
    r = PurchaseReport
    days = get_setting("confirm_within_days")
    last_call_before = now + timedelta(days=1) - timedelta(days=days)
    # Grouped by owner first: PostgreSQL cannot group by the JSON preferences column.
    waiting = (
        select(
            Stall.owner_id.label("owner_id"),
            func.count(r.id).label("n"),
            func.sum(r.amount).label("rp"),
            func.min(r.created_at).label("oldest"),
            func.sum(case((r.created_at < last_call_before, 1), else_=0)).label("last_call"),
        )
        .join(Stall, Stall.id == r.stall_id)
        .where(r.state == "submitted")
        .group_by(Stall.owner_id)
        .subquery()
    )
    w = waiting.c
    rows = db.session.execute(
        select(*RECIPIENT_COLUMNS, w.n, w.rp, w.oldest, w.last_call)
        .join(waiting, w.owner_id == User.id)
        .where(User.active.is_(True))
        .order_by(User.id)
    ).all()
    day = to_wib(now).date().isoformat()
    target = link("merchant.home")
    stop = link("notifications.preferences")
    for row in rows:
        recipient = Recipient.of(row)
        text = texts.merchant_digest(
            locale_of(recipient), row.n, int(row.rp), row.oldest, int(row.last_call), target, stop
        )
        yield Draft(recipient, texts.MERCHANT_DIGEST, day, text)


def _month_of(today: date) -> tuple[date, date]:
    """The first and last day of today's month."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def asn_shortfalls(now: datetime) -> list[Draft]:
    """On the day `shortfall_days` before the month closes: each ASN below the quota."""
    today = to_wib(now).date()
    first, last = _month_of(today)
    days_left = (last - today).days + 1
    if days_left != get_setting("reminders")["shortfall_days"]:
        return []
    short = {asn_id: (total, quota) for asn_id, total, quota in below_quota(Filters(first, last))}
    if not short:
        return []
    people = db.session.execute(
        select(*RECIPIENT_COLUMNS).where(User.id.in_(list(short)), User.active.is_(True))
    )
    target = link("asn.history")
    stop = link("notifications.preferences")
    drafts = []
    for person in people:
        recipient = Recipient.of(person)
        total, quota = short[recipient.id]
        text = texts.asn_shortfall(
            locale_of(recipient), first.year, first.month, total, quota, days_left, target, stop
        )
        drafts.append(Draft(recipient, texts.ASN_SHORTFALL, first.strftime("%Y-%m"), text))
    return drafts


def send_time() -> time:
    """The time of day (WIB) the city sends its daily reminders."""
    hours, minutes = get_setting("reminders")["send_at"].split(":")
    return time(int(hours), int(minutes))


def compose_due(now: datetime) -> dict[str, int] | None:
    """Compose today's reminders once the send time has passed, once a day.

    Beat calls this every few minutes: the send time is a setting, not a schedule, and a day
    missed while beat was down is not made up the next morning. Returns the rows added per
    status, or None when nothing was due.
    """
    local = to_wib(now)
    today = local.date().isoformat()
    if local.time() < send_time():
        return None
    marker = db.session.get(Setting, LAST_RUN)
    if marker is not None and marker.value == today:
        return None
    counts = store(chain(merchant_digests(now), asn_shortfalls(now), staff_alerts(now)), now)
    remember_queue(now)
    marker = db.session.get(Setting, LAST_RUN) or Setting(key=LAST_RUN)
    marker.value = today
    db.session.add(marker)
    db.session.commit()
    return counts
