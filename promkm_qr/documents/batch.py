"""The month's batch: plan one document per (kind, subject, period), generate chunks, replace.

Generation is idempotent. A document row is planned once per (kind, subject, period) and
reused by every later batch; a chunk skips rows this job already finished (a re-delivered
task after a worker died), and the file of a job has a fixed key, so a retry overwrites its
own half-written attempt instead of leaving a second copy. The new file is written first,
then the chunk's rows swap to theirs in one transaction, then the previous files are
deleted: a reader always finds a complete file whose checksum matches the row.
"""

import secrets
from collections import defaultdict

from sqlalchemy import func, insert, select, update

from promkm_qr.api import webhooks
from promkm_qr.core.pdf import render_pdf_pages
from promkm_qr.documents.kinds import KINDS, common_context, document_context
from promkm_qr.extensions import db
from promkm_qr.jobs import finish_job
from promkm_qr.models import Document, Job
from promkm_qr.models.base import utcnow
from promkm_qr.storage import get_storage

CHUNK_SIZE = 40
_IN_BATCH = 5000  # bound on the values of one SQL IN list (SQLite's variable limit)


def _slices(values: list, size: int):
    """Consecutive slices of at most size values."""
    return (values[i : i + size] for i in range(0, len(values), size))


def plan(job: Job) -> int:
    """Create or claim the job's document rows; returns how many the job must generate."""
    period = job.params["period"]
    wanted = job.params.get("kinds") or list(KINDS)
    only = job.params.get("subject")
    for kind in wanted:
        subjects = [only] if only else KINDS[kind].subjects(period)
        existing = set(
            db.session.scalars(
                select(Document.subject).where(Document.kind == kind, Document.period == period)
            )
        )
        fresh = [s for s in subjects if s not in existing]
        if fresh:
            db.session.execute(
                insert(Document),
                [
                    {
                        "public_id": secrets.token_urlsafe(12),
                        "kind": kind,
                        "subject": s,
                        "period": period,
                        "state": "queued",
                        "job_id": job.id,
                    }
                    for s in fresh
                ],
            )
        for part in _slices([s for s in subjects if s in existing], _IN_BATCH):
            db.session.execute(
                update(Document)
                .where(Document.kind == kind, Document.period == period, Document.subject.in_(part))
                .values(state="queued", job_id=job.id, error=None)
            )
    job.total = db.session.scalar(select(func.count()).where(Document.job_id == job.id))
    job.state = "running"
    db.session.commit()
    return job.total


def pending_chunks(job: Job) -> list[list[int]]:
    """Ids of the job's documents not yet generated, in chunks of one kind each.

    Area reports come first, one per chunk: the longest tasks start while every process
    has work after them, and the batch ends on short chunks of receipts and recaps.
    """
    size = job.params.get("chunk_size") or CHUNK_SIZE
    rows = db.session.execute(
        select(Document.kind, Document.id)
        .where(Document.job_id == job.id, Document.state != "done")
        .order_by(Document.kind, Document.id)
    )
    by_kind = defaultdict(list)
    for kind, doc_id in rows:
        by_kind[kind].append(doc_id)
    ordered = sorted(by_kind.items(), key=lambda item: not KINDS[item[0]].area)
    return [
        chunk for kind, ids in ordered for chunk in _slices(ids, 1 if KINDS[kind].area else size)
    ]


def _storage_key(doc: Document) -> str:
    """Where this job's file of the document lives; fixed, so a retry overwrites it."""
    return f"documents/{doc.period}/{doc.kind}/{doc.subject}-{doc.job_id[:8]}.pdf"


def _store(doc: Document, pdf: bytes, pages: int) -> str | None:
    """Write the new file and point the row at it (uncommitted); returns the old file's key."""
    key = _storage_key(doc)
    checksum = get_storage().put(key, pdf)
    old_key = doc.storage_key
    doc.storage_key, doc.checksum, doc.size = key, checksum, len(pdf)
    doc.pages = pages
    doc.state, doc.error, doc.generated_at = "done", None, utcnow()
    return old_key if old_key and old_key != key else None


def generate(job_id: str, document_ids: list[int]) -> int:
    """Generate the chunk's documents still pending for the job; returns how many it made.

    Every new file is written before the chunk's rows swap to them in one commit (one
    transaction per chunk, not per document); the files they replace are deleted after it.
    A chunk cut short commits nothing, and its retry overwrites the files it had written.
    """
    docs = db.session.scalars(
        select(Document)
        .where(Document.id.in_(document_ids), Document.job_id == job_id, Document.state != "done")
        .order_by(Document.id)
    ).all()
    made, replaced = 0, []
    if docs:
        common = common_context()
        kind, period = docs[0].kind, docs[0].period
        data = KINDS[kind].build(period, [d.subject for d in docs])
        for doc in docs:
            try:
                context = document_context(common, kind, period, doc.public_id, data[doc.subject])
                pdf, pages = render_pdf_pages(KINDS[kind].printable, context, archival=True)
            except (KeyError, ValueError, TypeError) as exc:
                # A subject that vanished or bad data fails this document, not the chunk.
                doc.state, doc.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
                continue
            replaced.append(_store(doc, pdf, pages))
            made += 1
        db.session.commit()
    storage = get_storage()
    for old_key in filter(None, replaced):
        storage.delete(old_key)
    update_progress(job_id)
    return made


def update_progress(job_id: str) -> None:
    """Recount the job's done and failed documents; finish the job when none is left."""
    counts = dict(
        db.session.execute(
            select(Document.state, func.count())
            .where(Document.job_id == job_id)
            .group_by(Document.state)
        ).all()
    )
    job = db.session.get(Job, job_id, with_for_update=True)
    job.done, job.failed = counts.get("done", 0), counts.get("failed", 0)
    if job.state == "running" and job.done + job.failed >= job.total:
        finish_job(job, f"{job.failed} dokumen gagal dibuat" if job.failed else None)
        webhooks.emit(
            "documents.month_ready",
            {"job_id": job.id, "period": job.params.get("period"), "done": job.done,
             "failed": job.failed},
        )  # fmt: skip
    db.session.commit()
