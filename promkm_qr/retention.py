"""Personal data kept only as long as the retention settings allow (UU 27/2022).

What is due goes in batches of BATCH rows, each in its own transaction, so a first purge of
years of data never holds locks for long; every step only touches values still present, so a
second run finds nothing. Reports, their amounts and states stay (totals and issued documents
do not change); only the photo files, positions and client addresses go (with the session
rows that hold one), with the data archives people downloaded (kept a week). One audit entry per
run names how many of each kind were removed.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from promkm_qr import audit
from promkm_qr.core.dates import WIB, month_bounds_utc, naive_utc
from promkm_qr.extensions import db
from promkm_qr.models import Evidence, Notification, PurchaseReport, RefusedScan, UserSession
from promkm_qr.personal_data import services as personal_data
from promkm_qr.reference import get_setting
from promkm_qr.storage import get_storage

BATCH = 500
# The periods an admin may set: (setting key, smallest, largest).
PERIODS = (
    ("photo_months", 1, 120),
    ("position_months", 1, 120),
    ("address_days", 1, 3650),
    ("message_days", 1, 3650),
)


def periods() -> dict[str, int]:
    """The retention periods in force, for the settings page, the notices and the purge
    (get_setting gives a period added after the city saved its settings its default)."""
    return get_setting("retention")


def _months_back(now: datetime, months: int) -> tuple[int, int]:
    """(year, month) in WIB `months` calendar months before the month of `now`."""
    local = now.replace(tzinfo=UTC).astimezone(WIB)
    index = local.year * 12 + local.month - 1 - months
    return index // 12, index % 12 + 1


def photo_cutoff(now: datetime, months: int) -> datetime:
    """Reports purchased before this (naive UTC) have photos past their period.

    A report's month closes at the end of its WIB calendar month; its photo is kept `months`
    months after that, so it is due once the month `months` after the close has begun.
    """
    start, _end = month_bounds_utc(*_months_back(now, months))
    return start.replace(tzinfo=None)


def position_cutoff(now: datetime, months: int) -> datetime:
    """Positions recorded before this (naive UTC) are past their period."""
    year, month = _months_back(now, months)
    day = min(now.day, 28)  # a calendar month back, clamped so the date always exists
    return now.replace(year=year, month=month, day=day, tzinfo=None)


def _in_batches(ids_query, apply) -> int:
    """Run `apply(ids)` on batches of ids until the query finds none; the count handled."""
    total = 0
    while ids := list(db.session.scalars(ids_query.limit(BATCH))):
        apply(ids)
        db.session.commit()
        total += len(ids)
    return total


def _clear(model, ids_query, **values) -> int:
    return _in_batches(
        ids_query,
        lambda ids: db.session.execute(update(model).where(model.id.in_(ids)).values(**values)),
    )


def _purge_photos(cutoff: datetime, now: datetime) -> int:
    storage = get_storage()
    due = (
        select(Evidence.id)
        .where(Evidence.purged_at.is_(None))
        .where(
            Evidence.id.in_(
                select(PurchaseReport.evidence_id).where(PurchaseReport.purchased_at < cutoff)
            )
        )
        .order_by(Evidence.id)
    )

    def remove(ids):
        # Files first: if the commit fails the rows are found again and deleting is repeatable.
        for key, thumb in db.session.execute(
            select(Evidence.storage_key, Evidence.thumb_key).where(Evidence.id.in_(ids))
        ):
            storage.delete(key)
            storage.delete(thumb)
        db.session.execute(update(Evidence).where(Evidence.id.in_(ids)).values(purged_at=now))

    return _in_batches(due, remove)


def purge(now: datetime | None = None) -> dict[str, int]:
    """Remove what is past its retention date; the counts per kind (all zero when nothing was)."""
    now = naive_utc(now)
    periods_now = periods()
    positions = position_cutoff(now, periods_now["position_months"])
    addresses = now - timedelta(days=periods_now["address_days"])
    counts = {
        "photos": _purge_photos(photo_cutoff(now, periods_now["photo_months"]), now),
        "report_positions": _clear(
            PurchaseReport,
            select(PurchaseReport.id)
            .where(PurchaseReport.created_at < positions)
            .where(PurchaseReport.lat.is_not(None) | PurchaseReport.lon.is_not(None))
            .order_by(PurchaseReport.id),
            lat=None,
            lon=None,
        ),
        "evidence_positions": _clear(
            Evidence,
            select(Evidence.id)
            .where(Evidence.created_at < positions)
            .where(Evidence.gps_lat.is_not(None) | Evidence.gps_lon.is_not(None))
            .order_by(Evidence.id),
            gps_lat=None,
            gps_lon=None,
        ),
        "scan_addresses": _clear(
            RefusedScan,
            select(RefusedScan.id)
            .where(RefusedScan.at < addresses)
            .where(RefusedScan.client.is_not(None))
            .order_by(RefusedScan.id),
            client=None,
        ),
        # Archives of "Unduh data saya" are kept a fixed week (personal_data.services).
        "data_exports": personal_data.purge_expired(now),
        # A session row holds a (masked) address: it goes once unused for as long.
        "session_rows": _in_batches(
            select(UserSession.id)
            .where(UserSession.last_seen_at < addresses)
            .order_by(UserSession.id),
            lambda ids: db.session.execute(delete(UserSession).where(UserSession.id.in_(ids))),
        ),
        # The delivery log stays; the words of each reminder go.
        "message_bodies": _clear(
            Notification,
            select(Notification.id)
            .where(Notification.created_at < now - timedelta(days=periods_now["message_days"]))
            .where(Notification.body.is_not(None))
            .order_by(Notification.id),
            subject=None,
            body=None,
            params=None,
        ),
    }
    if any(counts.values()):
        audit.record("retention.purged", "retention", None, data=counts)
        db.session.commit()
    return counts
