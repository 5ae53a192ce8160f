"""Staff alerts, at most once a day per kind: a review queue over the threshold in their
scope, and background jobs (document batches, imports) that failed today."""

from collections.abc import Iterator
from datetime import UTC, datetime, time

from sqlalchemy import func, or_, select

from promkm_qr.core.dates import WIB, to_wib
from promkm_qr.dashboard.queries import OPEN_REVIEW
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Job, PurchaseReport, Stall, User
from promkm_qr.notifications import texts
from promkm_qr.notifications.store import Draft, Recipient, link, locale_of
from promkm_qr.reference import get_setting

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


def _recipient(user: User) -> Recipient:
    refused = user.whatsapp_refused_at is not None
    return Recipient(user.id, user.locale, user.phone, user.email, user.notification_prefs, refused)


def _queue_by_kelurahan() -> dict[int, int]:
    """Open review reports per kelurahan (read from the queue's partial index)."""
    rows = db.session.execute(
        select(Stall.kelurahan_id, func.count(PurchaseReport.id))
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .where(OPEN_REVIEW)
        .group_by(Stall.kelurahan_id)
    )
    return dict(rows.all())


def staff_alerts(now: datetime) -> Iterator[Draft]:
    """Today's alerts for each staff member they concern."""
    day = to_wib(now).date()
    threshold = get_setting("reminders")["review_threshold"]
    queue = _queue_by_kelurahan()
    start = datetime.combine(day, time(), tzinfo=WIB).astimezone(UTC).replace(tzinfo=None)
    failed_jobs = list(
        db.session.execute(
            select(Job.id, Job.created_by_id).where(
                Job.finished_at >= start, or_(Job.state == "failed", Job.failed > 0)
            )
        )
    )
    stop = link("notifications.preferences")
    for user in _staff():
        recipient = _recipient(user)
        scope = scoped_kelurahan_ids(user)
        waiting = sum(n for k, n in queue.items() if scope is None or k in scope)
        if user.staff_role in ("admin", "reviewer") and waiting > threshold:
            text = texts.staff_review_queue(
                locale_of(recipient), waiting, threshold, link("dinas.review"), stop
            )
            yield Draft(recipient, texts.STAFF_REVIEW_QUEUE, day.isoformat(), text)
        # Jobs belong to no area: admins hear of every failure, others of their own.
        mine = [j for j, owner in failed_jobs if user.staff_role == "admin" or owner == user.id]
        if mine:
            text = texts.staff_jobs_failed(
                locale_of(recipient), len(mine), link("dinas.documents"), stop
            )
            yield Draft(recipient, texts.STAFF_JOBS_FAILED, day.isoformat(), text)
