"""Tasks of the monthly documents: a batch that fans out chunks, and the 1st-of-month run.

Tasks take ids only. They acknowledge late and are rejected back to the queue when the
worker process dies (config.py), so a killed chunk runs again; generation skips what the
job already finished. Database hiccups retry with backoff; time limits stay well under the
Redis visibility timeout (3 h) so a running chunk is never delivered twice.
"""

from celery import shared_task
from sqlalchemy.exc import OperationalError

from promkm_qr.core.dates import now_wib
from promkm_qr.documents import batch
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job
from promkm_qr.storage import StorageError

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, StorageError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="promkm_qr.documents.batch", soft_time_limit=600, time_limit=900, **RETRY)
def run_batch(job_id: str) -> int:
    """Plan the job's documents (once) and send one chunk task per slice still pending."""
    job = db.session.get(Job, job_id)
    if job is None or job.state in ("done", "failed"):
        return 0
    if job.state == "queued":
        batch.plan(job)
    chunks = batch.pending_chunks(job)
    for chunk in chunks:
        generate_chunk.delay(job_id, chunk)
    if not chunks:
        batch.update_progress(job_id)
    return len(chunks)


@shared_task(name="promkm_qr.documents.chunk", soft_time_limit=1200, time_limit=1500, **RETRY)
def generate_chunk(job_id: str, document_ids: list[int]) -> int:
    """Generate one chunk of documents (one kind) and record the job's progress."""
    return batch.generate(job_id, document_ids)


@shared_task(name="promkm_qr.documents.monthly", **RETRY)
def monthly() -> str:
    """On the 1st (beat, 01:00 WIB): start the batch of the month that just ended."""
    today = now_wib()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    job = create_job("documents", {"period": f"{year:04d}-{month:02d}"})
    db.session.commit()
    run_batch.delay(job.id)
    return job.id
