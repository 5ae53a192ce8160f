"""Turning a report's uploaded photo into Evidence: decode, re-encode, thumbnail, fingerprint.

Runs in the worker so the ASN's request never waits for Pillow. The flagging rules run in
the same transaction, once the evidence exists, so they can compare the photo's hashes and a
report never ends up with evidence but unchecked. Idempotent: a message delivered twice finds
the upload already done. Two hourly housekeeping tasks look after uploads left behind: one
sends the processing of uploads still pending again, the other deletes stored uploads that
no row names.
"""

import uuid
from datetime import UTC, timedelta

from celery import shared_task
from sqlalchemy import bindparam, insert, select, update

from promkm_qr import outbox
from promkm_qr.core.dates import WIB
from promkm_qr.core.photos import PhotoRejected, process_photo
from promkm_qr.extensions import db
from promkm_qr.models import Evidence, OutboxMessage, PhotoUpload, PurchaseReport
from promkm_qr.models.base import utcnow
from promkm_qr.reports.checks import check_reports
from promkm_qr.reports.submit import EVIDENCE_TASK
from promkm_qr.storage import get_storage


def _evidence_from(photo, asn_id: int) -> dict:
    """Store the re-encoded photo and thumbnail under new names; return the Evidence values."""
    storage = get_storage()
    base = f"evidence/{utcnow():%Y/%m}/{uuid.uuid4().hex}"
    storage.put(f"{base}.jpg", photo.jpeg)
    storage.put(f"{base}.thumb.jpg", photo.thumb_jpeg)
    taken_at = photo.exif_taken_at
    if taken_at is not None:
        # Cameras write local time without a zone; phones here run on WIB.
        taken_at = taken_at.replace(tzinfo=WIB).astimezone(UTC).replace(tzinfo=None)
    return {
        "storage_key": f"{base}.jpg",
        "thumb_key": f"{base}.thumb.jpg",
        "sha256": photo.sha256,
        "original_sha256": photo.original_sha256,
        "phash": photo.phash,
        "width": photo.width,
        "height": photo.height,
        "taken_at": taken_at,
        "gps_lat": photo.gps[0] if photo.gps else None,
        "gps_lon": photo.gps[1] if photo.gps else None,
        "uploaded_by_id": asn_id,
    }


# Built once, with bound parameters: building them per upload cost more than running them.
_PENDING = (
    select(PhotoUpload.id, PhotoUpload.upload_key, PurchaseReport.asn_id)
    .join(PurchaseReport, PurchaseReport.id == PhotoUpload.report_id)
    .where(PhotoUpload.report_id == bindparam("report_id"), PhotoUpload.state == "pending")
)
# Only the upload is claimed; the report stays free for the merchant and reviewers.
_CLAIM = _PENDING.with_for_update(skip_locked=True, of=PhotoUpload)
_ADD_EVIDENCE = insert(Evidence).returning(Evidence.id)
_LINK_EVIDENCE = (
    update(PurchaseReport)
    .where(PurchaseReport.id == bindparam("report_id"))
    .values(evidence_id=bindparam("evidence_id"))
    .execution_options(synchronize_session=False)
)
_FINISH = (
    update(PhotoUpload)
    .where(PhotoUpload.id == bindparam("upload_id"), PhotoUpload.state == "pending")
    .values(state=bindparam("state"), error=bindparam("error"), processed_at=bindparam("at"))
    .execution_options(synchronize_session=False)
)


@shared_task(name="promkm_qr.evidence.process_upload")
def process_upload(report_id: int) -> str:
    """Make the Evidence of a report from its pending upload, then run the rules on it."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    found = db.session.execute(_CLAIM if postgres else _PENDING, {"report_id": report_id}).first()
    if found is None:
        return "nothing to do"
    storage = get_storage()
    upload_id, upload_key, asn_id = found
    evidence, state, error = None, "done", None
    try:
        photo = process_photo(storage.get(upload_key))
    except (PhotoRejected, FileNotFoundError) as exc:
        # The request's checks passed, so this is a photo broken inside; the rules see no
        # evidence and the reviewer sees why.
        state, error = "failed", str(exc)
    else:
        evidence = _evidence_from(photo, asn_id)
        evidence_id = db.session.execute(_ADD_EVIDENCE, evidence).scalar_one()
        db.session.execute(_LINK_EVIDENCE, {"report_id": report_id, "evidence_id": evidence_id})
    # Only one delivery may finish the upload: SQLite has no SKIP LOCKED, so two workers
    # can get this far with the same message.
    claimed = db.session.execute(
        _FINISH, {"upload_id": upload_id, "state": state, "error": error, "at": utcnow()}
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        if evidence is not None:
            storage.delete(evidence["storage_key"])
            storage.delete(evidence["thumb_key"])
        return "nothing to do"
    # A second task and message per report cost more than the rules themselves.
    check_reports([report_id])
    db.session.commit()
    storage.delete(upload_key)
    return state


# Longer than any request takes between storing its upload and committing the report.
ORPHAN_AGE_SECONDS = 3600


@shared_task(name="promkm_qr.evidence.sweep_orphan_uploads")
def sweep_orphan_uploads(age_seconds: float = ORPHAN_AGE_SECONDS) -> int:
    """Delete stored uploads no upload row names: left by a submission whose commit broke.

    A commit cut off with its connection may or may not have happened, so the request keeps
    its upload (submit.CommitUnknown); by now the database knows.
    """
    storage = get_storage()
    keys = list(storage.older_than("uploads", age_seconds))
    removed = 0
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        named = set(
            db.session.scalars(
                select(PhotoUpload.upload_key).where(PhotoUpload.upload_key.in_(batch))
            )
        )
        for key in set(batch) - named:
            storage.delete(key)
            removed += 1
    db.session.rollback()
    return removed


@shared_task(name="promkm_qr.evidence.requeue_stale_uploads")
def requeue_stale_uploads(age_seconds: float = ORPHAN_AGE_SECONDS) -> int:
    """Send the processing of uploads still pending after an hour again.

    The outbox marks a message sent once the broker took it, so a broker that then loses
    its data (Redis restarted without persistence) loses the message for good. The task is
    idempotent; uploads whose message is still waiting in the outbox are left to the flush.
    """
    cutoff = utcnow() - timedelta(seconds=age_seconds)
    waiting = {
        args[0]
        for args in db.session.scalars(
            select(OutboxMessage.args).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.task == EVIDENCE_TASK
            )
        )
    }
    stale = db.session.scalars(
        select(PhotoUpload.report_id)
        .where(PhotoUpload.state == "pending", PhotoUpload.created_at < cutoff)
        .order_by(PhotoUpload.id)
        .limit(1000)
    ).all()
    messages = [outbox.enqueue(EVIDENCE_TASK, rid) for rid in stale if rid not in waiting]
    db.session.commit()
    outbox.send_pending(messages)
    return len(messages)
