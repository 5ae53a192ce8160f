"""Housekeeping tasks: a ping that proves a worker runs, and the outbox flush."""

import logging

from celery import shared_task
from celery.signals import beat_init

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


@shared_task(name="promkm_qr.accounts.sweep_expired_codes")
def sweep_expired_codes() -> int:
    """Remove expired activation codes and roster code files nobody downloaded in time."""
    from promkm_qr.accounts.activation import sweep_expired

    return sweep_expired()


@shared_task(name="promkm_qr.privacy.purge_expired")
def purge_expired_personal_data() -> dict[str, int]:
    """Remove photos, positions and addresses past their retention period."""
    from promkm_qr.retention import purge

    return purge()


@shared_task(name="promkm_qr.system.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat: its timestamp shows /readyz and /metrics that beat is alive."""
    from promkm_qr.monitoring import record_heartbeat

    record_heartbeat()


@beat_init.connect
def _heartbeat_at_start(sender=None, **_kwargs) -> None:
    """Beat's first heartbeat, written by beat itself as it starts: /readyz need not wait
    for the first scheduled one (30 s) after a restart."""
    try:
        sender.app.tasks["promkm_qr.system.heartbeat"]()  # runs here, in an app context
    except Exception as exc:  # the database may be down; the scheduled ones follow
        logging.getLogger(__name__).warning("first beat heartbeat not written: %s", exc)
