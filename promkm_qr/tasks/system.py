"""Housekeeping tasks: a ping that proves a worker runs, and the outbox flush."""

from celery import shared_task

from promkm_qr.extensions import db
from promkm_qr.jobs import finish_job
from promkm_qr.models import Job


@shared_task(name="promkm_qr.system.ping")
def ping(job_id: str) -> str:
    """Mark a job done, so a caller can see that a worker picked up its task."""
    job = db.session.get(Job, job_id)
    if job is None:
        return "missing"
    job.total = job.done = 1
    finish_job(job)
    db.session.commit()
    return "pong"


@shared_task(name="promkm_qr.outbox.flush")
def flush_outbox() -> int:
    """Send outbox messages the broker missed while it was down."""
    from promkm_qr.outbox import flush

    return flush()


@shared_task(name="promkm_qr.system.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat: its timestamp shows /readyz and /metrics that beat is alive."""
    from promkm_qr.monitoring import record_heartbeat

    record_heartbeat()
