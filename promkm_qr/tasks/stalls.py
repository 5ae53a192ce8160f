"""Stall jobs: bulk poster printing in parallel chunks, and spreadsheet imports.

A poster job is split into chunks of posters.CHUNK_SIZE stalls. Each chunk is its own task,
so every worker process takes part; it stores a part PDF and records a JobChunk row in the
same transaction as its prints and its progress, which makes a chunk count once however often
it is delivered. The chunk that completes the set joins the parts into one PDF, streaming, so
memory stays flat. A rerun of a failed job renders only the chunks that are missing.
"""

import os
from pathlib import Path

from celery import shared_task
from flask_babel import force_locale
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from promkm_qr.extensions import db
from promkm_qr.jobs import finish_job
from promkm_qr.models import Job, JobChunk
from promkm_qr.stalls import posters
from promkm_qr.stalls.pdf_join import join_pdfs
from promkm_qr.storage import get_storage


def _chunk_size(job: Job) -> int:
    """Stalls per chunk: the job's own setting (tests, benchmarks) or the default."""
    return int(job.params.get("chunk_size") or posters.CHUNK_SIZE)


def _chunks(job: Job) -> int:
    """How many chunks the job's stall list splits into."""
    return -(-len(job.params["stall_ids"]) // _chunk_size(job))


def _rss_kb() -> int | None:
    """This process's resident memory in kB (Linux), recorded per chunk."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _fail(job_id: str, error: str) -> None:
    """Mark the job failed in a fresh transaction."""
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is not None:
        finish_job(job, error[:1000])
        db.session.commit()


@shared_task(name="promkm_qr.stalls.print_posters")
def print_posters(job_id: str) -> None:
    """Start (or rerun) a poster job: send a task for every chunk not yet printed."""
    job = db.session.get(Job, job_id)
    if job is None or job.state == "done":
        return
    printed = set(db.session.scalars(select(JobChunk.index).where(JobChunk.job_id == job_id)))
    missing = [i for i in range(_chunks(job)) if i not in printed]
    job.state, job.error, job.finished_at, job.result_key = "running", None, None, None
    job.total = len(job.params["stall_ids"])
    job.done = db.session.scalar(
        select(func.coalesce(func.sum(JobChunk.items), 0)).where(JobChunk.job_id == job_id)
    )
    db.session.commit()
    if not missing:
        _join_if_complete(job_id)
    for index in missing:
        print_chunk.delay(job_id, index)


@shared_task(name="promkm_qr.stalls.print_chunk")
def print_chunk(job_id: str, index: int) -> None:
    """Render one chunk of a poster job to a part PDF and count its progress once."""
    job = db.session.get(Job, job_id)
    if job is None or job.state != "running":
        return
    size = _chunk_size(job)
    ids = job.params["stall_ids"][index * size : (index + 1) * size]
    fmt, actor_id = job.params["format"], job.created_by_id
    try:
        labels = posters.stall_labels(ids)
        key = f"jobs/{job_id}/part-{index:05d}.pdf"
        get_storage().put(key, posters.render_labels(fmt, labels))
        db.session.add(
            JobChunk(
                job_id=job_id,
                index=index,
                items=len(ids),
                storage_key=key,
                worker_pid=os.getpid(),
                rss_kb=_rss_kb(),
            )
        )
        posters.record_prints(labels, fmt, actor_id, job_id)
        db.session.execute(update(Job).where(Job.id == job_id).values(done=Job.done + len(ids)))
        db.session.commit()
    except IntegrityError:  # delivered twice: the first delivery already counted this chunk
        db.session.rollback()
    except Exception as exc:
        _fail(job_id, f"Bagian {index + 1} gagal dicetak: {exc}")
        raise
    _join_if_complete(job_id)


def _join_if_complete(job_id: str) -> None:
    """If every chunk is printed, let exactly one task join the parts into the final PDF."""
    job = db.session.get(Job, job_id)
    parts = db.session.scalars(
        select(JobChunk.storage_key).where(JobChunk.job_id == job_id).order_by(JobChunk.index)
    ).all()
    if len(parts) < _chunks(job):
        return
    key = f"jobs/{job_id}/poster-{job.params['format']}.pdf"
    # Claiming the result key is atomic, so two chunks finishing together join only once.
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.result_key.is_(None)).values(result_key=key)
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    storage = get_storage()
    target = storage.path(key)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as out:
            join_pdfs((storage.path(part) for part in parts), out)
        os.replace(partial, target)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        _fail(job_id, f"Penggabungan PDF gagal: {exc}")
        db.session.execute(update(Job).where(Job.id == job_id).values(result_key=None))
        db.session.commit()
        raise
    for part in parts:
        storage.delete(part)
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    finish_job(job)
    db.session.commit()


@shared_task(name="promkm_qr.stalls.import_stalls")
def import_stalls(job_id: str) -> None:
    """Import an uploaded CSV or XLSX of stalls, reporting bad rows in a CSV file."""
    from promkm_qr.stalls import importer

    job = db.session.get(Job, job_id)
    if job is None or job.state == "done":
        return
    job.state = "running"
    db.session.commit()
    try:
        # Messages in the error report are in Bahasa Indonesia; a worker has no request.
        with force_locale("id"):
            importer.run_job(job)
    except Exception as exc:
        _fail(job_id, f"Impor gagal: {exc}")
        raise
