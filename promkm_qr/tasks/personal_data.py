"""The task that makes a person's data archive ("Unduh data saya")."""

from celery import shared_task

from promkm_qr.personal_data import services


# Acknowledged late: a worker killed mid-archive leaves the message to run again.
@shared_task(
    name=services.TASK,
    soft_time_limit=600,
    time_limit=900,
    acks_late=True,
    reject_on_worker_lost=True,
)
def export(job_id: str) -> str:
    """Build and store the archive of one request; a request already finished is skipped."""
    return services.make(job_id)
