"""Dinas views: the start page and background-job progress shared by every area."""

import io

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from promkm_qr.accounts import activation
from promkm_qr.dinas import bp
from promkm_qr.extensions import db
from promkm_qr.jobs import job_status
from promkm_qr.models import Job
from promkm_qr.personal_data import services as personal_data
from promkm_qr.storage import get_storage


@bp.route("/")
def home():
    """The staff start page is the dashboard."""
    return redirect(url_for("dinas.dashboard"))


def _own_job(job_id: str) -> Job:
    """A job this staff member may watch: their own, or any for an admin."""
    job = db.session.get(Job, job_id)
    if job is None or (job.created_by_id != current_user.id and current_user.staff_role != "admin"):
        abort(404)
    # A person's data archive is for the admin who asked for it only.
    if job.kind == personal_data.KIND and job.created_by_id != current_user.id:
        abort(404)
    return job


@bp.route("/jobs/<job_id>")
def job(job_id: str):
    """A progress page for one background job."""
    job = _own_job(job_id)
    codes = activation.codes_file_state(job) if job.kind == "roster_import" else None
    return render_template("dinas/job.html", job=job_status(job), codes=codes)


@bp.route("/jobs/<job_id>.json")
def job_json(job_id: str):
    """Progress as JSON, polled by static/progress.js."""
    return job_status(_own_job(job_id))


@bp.route("/jobs/<job_id>/hasil")
def job_result(job_id: str):
    """Download the file a finished job produced (a PDF of posters, an error report...)."""
    job = _own_job(job_id)
    if job.kind == "roster_import":
        return _codes_file(job)
    if job.kind == personal_data.KIND:
        return _data_archive(job)
    if job.state != "done" or not job.result_key or not get_storage().exists(job.result_key):
        abort(404)
    path = get_storage().path(job.result_key)
    return send_file(path, as_attachment=True, download_name=path.name)


def _data_archive(job: Job):
    """A person's data archive, until it expires; each download is audited."""
    if not personal_data.downloadable(job):
        abort(404)
    personal_data.record_download(job, current_user.id)
    response = send_file(
        get_storage().path(job.result_key),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"data-{job.params['person_id']}-{job.finished_at:%Y%m%d}.zip",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _codes_file(job: Job):
    """A roster import's activation codes: one download, then the file is gone."""
    data = activation.take_codes_file(job, current_user.id)
    if data is None:
        flash(_("Berkas kode aktivasi tidak tersedia lagi."), "error")
        return redirect(url_for("dinas.job", job_id=job.id))
    response = send_file(
        io.BytesIO(data),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"kode-aktivasi-{job.created_at:%Y%m%d}.csv",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
