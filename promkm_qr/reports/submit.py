"""Recording a purchase report: checks, the uploaded photo, the report, its history, the outbox.

The request does only what must happen while the ASN waits: checks that need no decoding
(the photo's format, size, completeness and pixel count included), the upload written under a
generated name, one transaction with the report, its first history step, the audit entry and
the upload row (without a photo, the rules' outbox message), and then the photo's message to
the worker (reports.evidence_queue). Decoding and re-encoding the photo is the worker's job
(promkm_qr.tasks.evidence), so a submission never waits for Pillow or for the broker.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from promkm_qr import audit, outbox
from promkm_qr.core import photos
from promkm_qr.core.dates import WIB, naive_utc, now_wib
from promkm_qr.core.money import format_rupiah, parse_rupiah
from promkm_qr.extensions import db
from promkm_qr.models import (
    AsnProfile,
    PhotoUpload,
    PurchaseReport,
    ReportTransition,
)
from promkm_qr.monitoring import REPORTS_SUBMITTED
from promkm_qr.reference import get_setting
from promkm_qr.reports import evidence_queue
from promkm_qr.storage import get_storage

log = logging.getLogger(__name__)

RULES_TASK = "promkm_qr.reports.check_rules"

GOODS_CATEGORIES = [
    ("makanan", _l("Makanan")),
    ("minuman", _l("Minuman")),
    ("sembako", _l("Sembako")),
    ("sayur-buah", _l("Sayur & buah")),
    ("pakaian", _l("Pakaian")),
    ("kerajinan", _l("Kerajinan")),
    ("jasa", _l("Jasa")),
    ("lainnya", _l("Lainnya")),
]
PAYMENT_METHODS = [("tunai", _l("Tunai")), ("qris", _l("QRIS")), ("transfer", _l("Transfer"))]
# A phone clock a few minutes ahead of the server is not a purchase in the future.
CLOCK_SKEW = timedelta(minutes=5)
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Submission:
    """What an ASN reports about one purchase, already checked field by field."""

    asn_id: int
    stall_id: int
    form_key: str
    amount: int
    goods_category: str
    description: str
    payment_method: str
    purchased_at: datetime
    photo: bytes | None = None
    lat: float | None = None
    lon: float | None = None


def check_amount(text: str) -> int:
    """The amount in rupiah, more than zero and at most the configured ceiling."""
    amount = parse_rupiah(text or "")
    if amount <= 0:
        raise ValueError(_("Nominal harus lebih dari nol."))
    ceiling = int(get_setting("report_ceiling"))
    if amount > ceiling:
        raise ValueError(
            _("Nominal melebihi batas satu laporan (%(ceiling)s).", ceiling=format_rupiah(ceiling))
        )
    return amount


def check_purchased_at(text: str, now: datetime | None = None) -> datetime:
    """The purchase time typed in WIB, as naive UTC; not in the future, not too old."""
    local = None
    for fmt in TIME_FORMATS:
        try:
            local = datetime.strptime((text or "").strip(), fmt).replace(tzinfo=WIB)
            break
        except ValueError:
            continue
    if local is None:
        raise ValueError(_("Tanggal dan jam pembelian tidak valid."))
    now = now or now_wib()
    if local > now + CLOCK_SKEW:
        raise ValueError(_("Tanggal pembelian tidak boleh di masa depan."))
    max_age = int(get_setting("report_max_age_days"))
    if local < now - timedelta(days=max_age):
        raise ValueError(
            _("Pembelian lebih dari %(days)s hari yang lalu tidak dapat dilaporkan.", days=max_age)
        )
    return naive_utc(local)


def check_photo(data: bytes | None) -> bytes | None:
    """The uploaded photo if it passes the checks that need no decoding; None if none chosen.

    A chosen file that arrived empty (b"") is refused as empty, not taken for no photo.
    """
    if data is None:
        if get_setting("photo_required"):
            raise ValueError(_("Foto barang atau nota wajib dilampirkan."))
        return None
    try:
        photos.check_photo(data, min_side=int(get_setting("photo_min_side")))
    except photos.PhotoRejected as exc:
        raise ValueError(str(exc)) from exc
    return data


def check_location(lat: str | None, lon: str | None) -> tuple[float | None, float | None]:
    """The phone's position if it sent a plausible one; anything else counts as no position."""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, None
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        return None, None
    return round(la, 7), round(lo, 7)


def new_reference(now: datetime | None = None) -> str:
    """A reference number to quote on the phone: WIB date and eight random characters."""
    day = (now or now_wib()).strftime("%y%m%d")
    # No 0/O or 1/I: people read it aloud and type it back.
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"LP{day}-{''.join(secrets.choice(alphabet) for _ in range(8))}"


@dataclass(frozen=True)
class Recorded:
    """A report a form key names: its id, its ASN, and whether this submission recorded it."""

    report_id: int
    asn_id: int
    created: bool = False


def find_by_key(form_key: str) -> Recorded | None:
    """The report a form key already recorded, if any."""
    row = db.session.execute(
        select(PurchaseReport.id, PurchaseReport.asn_id).where(
            PurchaseReport.idempotency_key == form_key
        )
    ).first()
    return Recorded(row.id, row.asn_id) if row else None


class CommitUnknown(OperationalError):
    """The commit failed on a broken connection: the report may or may not be recorded."""


def submit(sub: Submission) -> Recorded:
    """Record the report once per form key; a resend gets the report recorded first.

    The form key is not looked up first: a resend is rare, and the unique key finds it
    anyway (its upload is then removed), so a first submission saves the round trip.
    """
    storage = get_storage()
    upload_key = None
    if sub.photo:
        upload_key = f"uploads/{now_wib():%Y/%m}/{uuid.uuid4().hex}"
        storage.put(upload_key, sub.photo)
    try:
        recorded, message = _record(sub, upload_key)
    except CommitUnknown:
        # The database may have committed before the connection broke, so the upload may
        # belong to a recorded report: keep it; sweep_orphan_uploads removes it if not.
        raise
    except BaseException:
        # Nothing was committed (whole or not at all): remove the upload too.
        db.session.rollback()
        if upload_key:
            storage.delete(upload_key)
        raise
    if not recorded.created:
        if upload_key:
            storage.delete(upload_key)
        return recorded
    REPORTS_SUBMITTED.inc()
    log.info("report %s submitted", recorded.report_id)
    if upload_key:
        evidence_queue.announce(recorded.report_id)
    else:
        outbox.send_pending([message])
    return recorded


# Plain INSERTs on the tables, not the ORM: on this path the unit of work and the ORM's
# bulk insert cost more CPU than the statements themselves (docs/load.md).
_ADD_REPORT = (
    insert(PurchaseReport.__table__)
    .values(
        # Read inside the INSERT: one round trip less than a query of its own.
        opd_id=select(AsnProfile.opd_id)
        .where(AsnProfile.user_id == bindparam("profile_of"))
        .scalar_subquery()
    )
    .returning(PurchaseReport.id)
)
_ADD_STEP = insert(ReportTransition.__table__)
_ADD_UPLOAD = insert(PhotoUpload.__table__)


def _record(sub: Submission, upload_key: str | None) -> tuple[Recorded, outbox.Message | None]:
    """One transaction: the report, its first step, audit entry, and its upload row or outbox.

    Returns the report and the rules' message to send (none for a photo: the evidence
    task runs the rules); a report a racing resend of the same form key recorded first
    comes back not created.
    """
    reference = new_reference()
    try:
        # The unique form key decides which of two racing resends records the purchase.
        report_id = db.session.execute(
            _ADD_REPORT,
            {
                "profile_of": sub.asn_id,
                "reference": reference,
                "idempotency_key": sub.form_key,
                "asn_id": sub.asn_id,
                "stall_id": sub.stall_id,
                "amount": sub.amount,
                "goods_category": sub.goods_category,
                "description": sub.description.strip(),
                "payment_method": sub.payment_method,
                "purchased_at": sub.purchased_at,
                "lat": sub.lat,
                "lon": sub.lon,
                "state": "submitted",
            },
        ).scalar_one()
    except IntegrityError:
        db.session.rollback()
        existing = find_by_key(sub.form_key)
        if existing is None:
            raise
        return existing, None
    db.session.execute(
        _ADD_STEP,
        {
            "report_id": report_id,
            "from_state": None,
            "to_state": "submitted",
            "actor_id": sub.asn_id,
        },
    )
    message = None
    if upload_key:
        # Its message is sent after the commit, with no outbox row: the hourly
        # requeue_stale_uploads finds an upload whose process died before sending it. The
        # rules run after the photo is re-encoded, so they can compare its hashes.
        db.session.execute(
            _ADD_UPLOAD, {"report_id": report_id, "upload_key": upload_key, "size": len(sub.photo)}
        )
    else:
        message = outbox.enqueue(RULES_TASK, report_id)
    audit.record(
        "report.submitted",
        "report",
        report_id,
        actor_id=sub.asn_id,
        data={"reference": reference, "stall_id": sub.stall_id, "amount": sub.amount},
    )
    # Every statement has run: a failure up to here certainly recorded nothing.
    try:
        db.session.commit()
    except OperationalError as exc:
        db.session.rollback()
        raise CommitUnknown(exc.statement, exc.params, exc.orig) from exc
    return Recorded(report_id, sub.asn_id, created=True), message
