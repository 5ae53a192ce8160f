"""Background jobs people start and watch: create, progress, finish."""

import uuid

from flask_babel import lazy_gettext as _l

from promkm_qr.extensions import db
from promkm_qr.models import Job
from promkm_qr.models.base import utcnow

KIND_LABELS = {
    "data_export": _l("Data pribadi"),
    "documents": _l("Dokumen bulanan"),
    "import": _l("Impor lapak"),
    "posters": _l("Cetak poster"),
    "roster_import": _l("Impor daftar ASN"),
    "tpp": _l("Berkas TPP"),
}
STATE_LABELS = {
    "queued": _l("antre"),
    "running": _l("berjalan"),
    "done": _l("selesai"),
    "failed": _l("gagal"),
}


def state_label(state: str) -> str:
    """A job's state in the page's language."""
    return str(STATE_LABELS.get(state, state))


def create_job(kind: str, params: dict | None = None, created_by_id: int | None = None) -> Job:
    """A queued job row; the caller commits and enqueues with enqueue_after_commit."""
    job = Job(id=str(uuid.uuid4()), kind=kind, params=params or {}, created_by_id=created_by_id)
    db.session.add(job)
    return job


def finish_job(job: Job, error: str | None = None) -> None:
    """Mark a job done or failed."""
    job.state = "failed" if error else "done"
    job.error = error
    job.finished_at = utcnow()


def job_status(job: Job) -> dict:
    """Plain data for the progress bar endpoint."""
    percent = int(100 * job.done / job.total) if job.total else (100 if job.state == "done" else 0)
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": str(KIND_LABELS.get(job.kind, job.kind)),
        "state": job.state,
        "state_label": state_label(job.state),
        "done": job.done,
        "total": job.total,
        "failed": job.failed,
        "percent": percent,
        "error": job.error,
        "has_result": bool(job.result_key),
    }
