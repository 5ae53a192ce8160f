"""The TPP file job: made in the background, stored, downloaded from the job page."""

from celery import shared_task

from promkm_qr.api.tpp import MonthOpen, tpp_file
from promkm_qr.extensions import db
from promkm_qr.jobs import finish_job
from promkm_qr.models import Job
from promkm_qr.storage import get_storage


@shared_task(name="promkm_qr.payroll.tpp_file", acks_late=True)
def make_tpp_file(job_id: str) -> None:
    """Build the job's TPP file and keep it as the job's result (a rerun replaces it)."""
    job = db.session.get(Job, job_id)
    if job is None or job.state in ("done", "failed"):
        return
    params = job.params
    try:
        data, _ids = tpp_file(params["month"], params.get("opd_id"), params["fmt"])
    except MonthOpen:
        finish_job(job, f"month {params['month']} is not closed")
        db.session.commit()
        return
    scope = params.get("opd_id") or "kota"
    key = f"tpp/{params['month']}-{scope}-{job.id}.{params['fmt']}"
    get_storage().put(key, data)
    job.result_key, job.total, job.done = key, 1, 1
    finish_job(job)
    db.session.commit()
