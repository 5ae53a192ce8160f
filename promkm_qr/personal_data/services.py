"""Requests for a person's data archive: started, made by a worker, downloaded, expired.

A request is a Job of kind "data_export" whose params name the person. The one who asked
(the person, or the admin who asked on their behalf) is its creator and the only one who
can download the file, for KEEP_DAYS days after it was made; then the retention purge
deletes it. Requests, downloads and expiry are written to the audit trail by id.
"""

import uuid
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from promkm_qr import audit, outbox
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import Job, User
from promkm_qr.models.base import utcnow
from promkm_qr.personal_data import archive
from promkm_qr.storage import get_storage

KIND = "data_export"
TASK = "promkm_qr.personal_data.export"
KEEP_DAYS = 7
# Roles whose data an archive is made of: staff accounts are not covered by this page.
PEOPLE = ("asn", "merchant")
REASON_MAX = 300
STALE = timedelta(hours=1)


class ExportRefused(Exception):
    """The request cannot start; the message says why."""


def _open(requested_by: int) -> Job | None:
    """A request of this requester still being made: one at a time each.

    One older than STALE is not waited for (its worker died), so nobody is locked out.
    """
    return db.session.scalar(
        select(Job)
        .where(
            Job.kind == KIND,
            Job.created_by_id == requested_by,
            Job.state.in_(("queued", "running")),
            Job.created_at > utcnow() - STALE,
        )
        .order_by(Job.created_at.desc())
        .limit(1)
    )


def start(person: User, requested_by: int, reason: str | None = None) -> Job:
    """Record a request and its task in one commit, then try the broker."""
    if person.role not in PEOPLE:
        raise ExportRefused(_("Data hanya dapat dibuat untuk akun ASN atau UMKM."))
    if requested_by != person.id and not (reason or "").strip():
        raise ExportRefused(_("Tulis dasar permintaan (misalnya nomor surat permohonan)."))
    if _open(requested_by) is not None:
        raise ExportRefused(_("Permintaan sebelumnya masih diproses. Tunggu sampai selesai."))
    params = {"person_id": person.id}
    if requested_by != person.id:
        params["reason"] = reason.strip()[:REASON_MAX]
    job = create_job(KIND, params, created_by_id=requested_by)
    db.session.flush()
    audit.record(
        "personal_data.export_requested",
        "user",
        person.id,
        actor_id=requested_by,
        data={"job": job.id, **({"reason": params["reason"]} if "reason" in params else {})},
    )
    message = outbox.enqueue(TASK, job.id)
    db.session.commit()
    outbox.send_pending([message])
    return job


def make(job_id: str) -> str:
    """Build and store the archive of a request (the worker's part); its state."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != KIND or job.state in ("done", "failed"):
        return "skipped"
    job.state, job.total = "running", 1
    db.session.commit()
    person = db.session.get(User, job.params["person_id"])
    if person is None:
        finish_job(job, "person not found")
        db.session.commit()
        return job.state
    key = f"exports/{uuid.uuid4().hex}.zip"
    try:
        get_storage().put(key, archive.build(person))
    except Exception as exc:
        # The request ends as failed (the person may ask again) rather than running forever.
        db.session.rollback()
        finish_job(job, type(exc).__name__)
        db.session.commit()
        raise
    job.result_key, job.done = key, 1
    finish_job(job)
    db.session.commit()
    return job.state


def expires_at(job: Job) -> datetime | None:
    """When the archive stops being downloadable (naive UTC), once it is made."""
    return job.finished_at + timedelta(days=KEEP_DAYS) if job.finished_at else None


def downloadable(job: Job | None) -> bool:
    """Whether the job's archive is made, not expired and still stored."""
    return (
        job is not None
        and job.kind == KIND
        and job.state == "done"
        and bool(job.result_key)
        and expires_at(job) > utcnow()
        and get_storage().exists(job.result_key)
    )


def latest_own(person: User) -> Job | None:
    """The person's newest request of their own data (never one staff made for them)."""
    jobs = db.session.scalars(
        select(Job)
        .where(Job.kind == KIND, Job.created_by_id == person.id)
        .order_by(Job.created_at.desc())
        .limit(5)
    )
    return next((j for j in jobs if j.params.get("person_id") == person.id), None)


def record_download(job: Job, actor_id: int) -> None:
    """Write the download to the audit trail (committed before the file is sent)."""
    audit.record(
        "personal_data.export_downloaded",
        "user",
        job.params.get("person_id"),
        actor_id=actor_id,
        data={"job": job.id},
    )
    db.session.commit()


def download_name(job: Job) -> str:
    """The file name offered to the browser."""
    return f"data-saya-{job.finished_at:%Y%m%d}.zip"


def purge_expired(now: datetime) -> int:
    """Delete the archives past KEEP_DAYS; the job rows stay, without their file."""
    due = db.session.scalars(
        select(Job).where(
            Job.kind == KIND,
            Job.result_key.is_not(None),
            Job.finished_at < now - timedelta(days=KEEP_DAYS),
        )
    ).all()
    storage = get_storage()
    for job in due:
        storage.delete(job.result_key)
        job.params = {**job.params, "expired_at": now.isoformat()}
        job.result_key = None
    db.session.commit()
    return len(due)
