"""Turning a report's uploaded photo into Evidence: decode, re-encode, thumbnail, fingerprint.

Runs in the worker so the ASN's request never waits for Pillow. A message takes its own
report's upload and then the others waiting, batch after batch (on PostgreSQL), so under
load the claim, the rules and the commit are shared by a batch, and one message serves the
uploads committed while it waited (reports.evidence_queue). The flagging rules run in
the same transaction, once the evidence exists, so they can compare the photo's hashes and a
report never ends up with evidence but unchecked. Idempotent: a message delivered twice finds
the upload already done. Two hourly housekeeping tasks look after uploads left behind: one
sends the processing of uploads still pending again, the other deletes stored uploads that
no row names.
"""

import logging
import uuid
from datetime import timedelta

from celery import shared_task
from sqlalchemy import bindparam, insert, select, update

from promkm_qr import outbox
from promkm_qr.core.dates import WIB, naive_utc
from promkm_qr.core.photos import PhotoRejected, process_photo
from promkm_qr.extensions import db
from promkm_qr.models import Evidence, OutboxMessage, PhotoUpload, PurchaseReport
from promkm_qr.models.base import utcnow
from promkm_qr.reports import evidence_queue
from promkm_qr.reports.checks import check_reports
from promkm_qr.reports.evidence_queue import EVIDENCE_TASK
from promkm_qr.storage import get_storage

BATCH_SIZE = 8
MAX_BATCHES = 16
log = logging.getLogger(__name__)


def _evidence_from(photo, asn_id: int) -> dict:
    """Store the re-encoded photo and thumbnail under new names; return the Evidence values."""
    storage = get_storage()
    base = f"evidence/{utcnow():%Y/%m}/{uuid.uuid4().hex}"
    storage.put(f"{base}.jpg", photo.jpeg)
    storage.put(f"{base}.thumb.jpg", photo.thumb_jpeg)
    taken_at = photo.exif_taken_at
    if taken_at is not None:
        # Cameras write local time without a zone; phones here run on WIB.
        taken_at = naive_utc(taken_at.replace(tzinfo=WIB))
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
_COLUMNS = (PhotoUpload.id, PhotoUpload.report_id, PhotoUpload.upload_key, PurchaseReport.asn_id)
_WAITING = (
    select(*_COLUMNS)
    .join(PurchaseReport, PurchaseReport.id == PhotoUpload.report_id)
    .where(PhotoUpload.state == "pending")
)
_OWN = _WAITING.where(PhotoUpload.report_id == bindparam("report_id"))
# The message's own upload and the oldest others waiting, up to a batch: the rules, the
# claim and the commit cost about as much for eight reports as for one. Rows another worker
# holds are skipped, and only the uploads are locked: reports stay free for the merchant
# and reviewers.
_CLAIM_BATCH = (
    _WAITING.order_by((PhotoUpload.report_id == bindparam("report_id")).desc(), PhotoUpload.id)
    .limit(BATCH_SIZE)
    .with_for_update(skip_locked=True, of=PhotoUpload)
)
_ADD_EVIDENCE = insert(Evidence).returning(Evidence.id, sort_by_parameter_order=True)
_LINK_EVIDENCE = (
    update(PurchaseReport.__table__)
    .where(PurchaseReport.id == bindparam("report"))
    .values(evidence_id=bindparam("evidence"))
)
_FINISH = (
    update(PhotoUpload)
    .where(PhotoUpload.id == bindparam("upload_id"), PhotoUpload.state == "pending")
    .values(state=bindparam("state"), error=bindparam("error"), processed_at=bindparam("at"))
    .execution_options(synchronize_session=False)
)


def _make_evidence(storage, upload_key: str, asn_id: int) -> tuple[str, str | None, dict | None]:
    """(state, error, Evidence values) for one upload; storage errors are raised."""
    try:
        photo = process_photo(storage.get(upload_key))
    except (PhotoRejected, FileNotFoundError) as exc:
        # The request's checks passed, so this is a photo broken inside; the rules see no
        # evidence and the reviewer sees why.
        return "failed", str(exc), None
    except MemoryError:
        raise
    except Exception as exc:
        # A fault in decoding these bytes comes back on every try: kept pending, the upload
        # would stop every batch that claims it first.
        log.exception("upload %s could not be processed", upload_key)
        return "failed", f"{type(exc).__name__}: {exc}"[:500], None
    return "done", None, _evidence_from(photo, asn_id)


def _delete_evidence(storage, evidence: dict | None) -> None:
    """Remove the files of evidence that will not be recorded."""
    if evidence is not None:
        storage.delete(evidence["storage_key"])
        storage.delete(evidence["thumb_key"])


@shared_task(name="promkm_qr.evidence.process_upload")
def process_upload(report_id: int) -> str:
    """Make the Evidence of pending uploads, the report's own first, then run the rules.

    On PostgreSQL, batch after batch until no upload waits, at most MAX_BATCHES, so other
    tasks on the queue get their turn (see reports.evidence_queue).
    Returns the outcome of the report's own upload ("done", "failed"), or "nothing to do"
    when another delivery or batch has taken it.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite has no SKIP LOCKED: two workers would process the same batch, so one each.
        own = db.session.execute(_OWN, {"report_id": report_id}).all()
        return _outcome(_process(own), report_id)
    evidence_queue.clear()  # before the first claim: later uploads need a message again
    outcome = "nothing to do"
    for _batch in range(MAX_BATCHES):
        claimed = db.session.execute(_CLAIM_BATCH, {"report_id": report_id}).all()
        if not claimed:
            break
        finished = _process(claimed)
        if outcome == "nothing to do":
            outcome = _outcome(finished, report_id)
        if len(claimed) == BATCH_SIZE:
            # More may wait: keep a message waiting (after the commit, as a request does),
            # so an idle worker process shares them and a task carries on if this one stops
            # at MAX_BATCHES.
            evidence_queue.announce(report_id)
    return outcome


def _outcome(finished: list, report_id: int) -> str:
    return next(
        (state for owner, _key, state, _ev in finished if owner == report_id), "nothing to do"
    )


def _process(claimed) -> list[tuple[int, str, str, dict | None]]:
    """Make the evidence of claimed uploads and run the rules, in one transaction.

    Returns (report id, upload key, state, evidence values) of each upload finished.
    """
    storage = get_storage()
    finished = []
    try:
        for upload_id, owner, upload_key, asn_id in claimed:
            state, error, evidence = _make_evidence(storage, upload_key, asn_id)
            finished.append((owner, upload_key, state, evidence))
            # Only one delivery may finish an upload: two SQLite workers can get this far
            # with the same message.
            done = db.session.execute(
                _FINISH, {"upload_id": upload_id, "state": state, "error": error, "at": utcnow()}
            )
            if done.rowcount != 1:
                finished.pop()
                _delete_evidence(storage, evidence)
    except BaseException:
        # Storage or the database failed: nothing of the batch is kept; it stays pending.
        db.session.rollback()
        for *_rest, evidence in finished:
            _delete_evidence(storage, evidence)
        raise
    made = [(owner, evidence) for owner, _key, _state, evidence in finished if evidence]
    if made:
        ids = db.session.scalars(_ADD_EVIDENCE, [evidence for _owner, evidence in made]).all()
        db.session.execute(
            _LINK_EVIDENCE,
            [{"report": owner, "evidence": i} for (owner, _), i in zip(made, ids, strict=True)],
        )
    if finished:
        check_reports([owner for owner, *_rest in finished])
    db.session.commit()
    for owner, upload_key, state, _evidence in finished:
        storage.delete(upload_key)
        log.info("photo of report %s %s, rules checked", owner, state)
    return finished


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

    An upload's message is sent after its commit with no outbox row (the outbox keeps only
    those the broker refused), so a process that died in between, or a broker that lost its
    data (Redis restarted without persistence), leaves the upload waiting for this. The
    task is idempotent; uploads whose message waits in the outbox are left to the flush.
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
    db.session.rollback()  # end the read: send_or_keep commits each message it has to keep
    again = [report_id for report_id in stale if report_id not in waiting]
    for report_id in again:
        outbox.send_or_keep(EVIDENCE_TASK, report_id)
    return len(again)
