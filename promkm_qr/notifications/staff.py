"""Staff alerts, at most once a day per kind: a review queue over the threshold in their
scope, a review queue growing faster than the setting, and background jobs (document
batches, imports) that failed today.

Growth is measured against the queue counted by the last composition (a settings row holds
the count per kelurahan and its day), so no history table is needed; after a day missed the
growth is spread over the days between the counts.
"""

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import func, or_, select

from promkm_qr.core.dates import to_wib, wib_day_start
from promkm_qr.dashboard.queries import OPEN_REVIEW
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Job, PurchaseReport, Setting, Stall, User
from promkm_qr.notifications import texts
from promkm_qr.notifications.store import Draft, Recipient, link, locale_of
from promkm_qr.reference import get_setting

# The settings row with the queue as last counted: {"day": ISO date, "counts": {kel: n}}.
QUEUE_COUNT = "reminders_review_queue"
# Staff who work the queue or start jobs; viewers only read dashboards.
ALERTED_ROLES = ("admin", "operator", "reviewer")


def _staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == "dinas", User.active.is_(True))
            .where(User.staff_role.in_(ALERTED_ROLES))
            .order_by(User.id)
        )
    )


def _queue_by_kelurahan() -> dict[int, int]:
    """Open review reports per kelurahan (read from the queue's partial index)."""
    rows = db.session.execute(
        select(Stall.kelurahan_id, func.count(PurchaseReport.id))
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .where(OPEN_REVIEW)
        .group_by(Stall.kelurahan_id)
    )
    return dict(rows.all())


def remember_queue(now: datetime) -> None:
    """Keep today's queue per kelurahan for tomorrow's growth check; the caller commits."""
    counts = {str(k): n for k, n in _queue_by_kelurahan().items()}
    row = db.session.get(Setting, QUEUE_COUNT) or Setting(key=QUEUE_COUNT)
    row.value = {"day": to_wib(now).date().isoformat(), "counts": counts}
    db.session.add(row)


def _within(counts: dict[int, int], scope) -> int:
    """The reports of counts per kelurahan that fall in a scope (None: the whole city)."""
    return sum(n for k, n in counts.items() if scope is None or k in scope)


def _last_count(day: date) -> tuple[dict[int, int], int] | None:
    """The queue per kelurahan as counted before `day`, and the days since; None if none."""
    row = db.session.get(Setting, QUEUE_COUNT)
    if row is None or row.value["day"] >= day.isoformat():
        return None
    days = (day - date.fromisoformat(row.value["day"])).days
    return {int(k): n for k, n in row.value["counts"].items()}, days


def staff_alerts(now: datetime) -> Iterator[Draft]:
    """Today's alerts for each staff member they concern."""
    day = to_wib(now).date()
    reminders = get_setting("reminders")
    threshold, growth_limit = reminders["review_threshold"], reminders["review_growth"]
    queue = _queue_by_kelurahan()
    last = _last_count(day)
    start = wib_day_start(day)
    failed_jobs = list(
        db.session.execute(
            select(Job.id, Job.created_by_id).where(
                Job.finished_at >= start, or_(Job.state == "failed", Job.failed > 0)
            )
        )
    )
    stop, review = link("notifications.preferences"), link("dinas.review")
    for user in _staff():
        recipient = Recipient.of(user)
        scope = scoped_kelurahan_ids(user)
        waiting = _within(queue, scope)
        # Reports a day the queue grew since the last count.
        growth = None if last is None else (waiting - _within(last[0], scope)) // last[1]
        alerts = (
            (texts.STAFF_REVIEW_QUEUE, waiting, threshold),
            (texts.STAFF_REVIEW_GROWTH, growth, growth_limit),
        )
        for kind, n, limit in alerts if user.staff_role in ("admin", "reviewer") else ():
            if n is not None and n > limit:
                text = texts.staff_review(locale_of(recipient), kind, n, limit, review, stop)
                yield Draft(recipient, kind, day.isoformat(), text)
        # Jobs belong to no area: admins hear of every failure, others of their own.
        mine = [j for j, owner in failed_jobs if user.staff_role == "admin" or owner == user.id]
        if mine:
            text = texts.staff_jobs_failed(
                locale_of(recipient), len(mine), link("dinas.documents"), stop
            )
            yield Draft(recipient, texts.STAFF_JOBS_FAILED, day.isoformat(), text)
