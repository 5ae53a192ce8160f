"""Work on many stalls at once: bulk poster printing and spreadsheet imports (background jobs)."""

import uuid

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr.auth.access import staff_roles
from promkm_qr.core.text import whole_number
from promkm_qr.dinas import bp
from promkm_qr.dinas.stalls import form_regions
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job, Stall
from promkm_qr.stalls import posters, registry, spreadsheet
from promkm_qr.storage import get_storage


def _selection(form) -> tuple[list[int], str | None]:
    """The stall ids a bulk print names (all, kecamatan, kelurahan or listed codes)."""
    scope = form.get("scope", "all")
    filters = registry.SearchFilters(status="active")
    if scope in ("kecamatan", "kelurahan"):
        # A missing or tampered id matches nothing, so the page says so instead of failing.
        chosen = form.get(scope, "")
        setattr(filters, f"{scope}_id", whole_number(chosen) or -1)
    query = registry.filtered(filters, current_user).order_by(Stall.kelurahan_id, Stall.serial)
    if scope == "selection":
        codes = [c.strip() for c in form.get("codes", "").replace(",", "\n").split() if c.strip()]
        query = query.where(Stall.code.in_(codes[:5000]))
    ids = list(db.session.scalars(query))
    return ids, None if ids else _("Tidak ada lapak aktif yang cocok dengan pilihan ini.")


@bp.route("/poster", methods=["GET", "POST"], endpoint="posters")
@staff_roles("operator")
def posters_page():
    """Bulk printing: choose stalls and a format; a background job builds one PDF."""
    error = None
    if request.method == "POST":
        fmt = request.form.get("format", "poster")
        if fmt not in posters.FORMATS:
            abort(400)
        ids, error = _selection(request.form)
        if not error:
            job = create_job(
                "posters", {"format": fmt, "stall_ids": ids}, created_by_id=current_user.id
            )
            job.total = len(ids)
            db.session.commit()
            from promkm_qr.tasks.stalls import print_posters

            print_posters.delay(job.id)
            return redirect(url_for("dinas.job", job_id=job.id))
    jobs = db.session.scalars(
        select(Job)
        .where(Job.kind == "posters", Job.created_by_id == current_user.id)
        .order_by(Job.created_at.desc())
        .limit(10)
    ).all()
    return render_template(
        "dinas/stalls/posters.html",
        error=error,
        jobs=jobs,
        chosen=request.form if error else {},
        formats=posters.FORMAT_LABELS,
        **form_regions(),
    ), (400 if error else 200)


@bp.route("/poster/<job_id>/ulang", methods=["POST"])
@staff_roles("operator")
def posters_rerun(job_id: str):
    """Rerun a failed or interrupted poster job; finished chunks are not printed again."""
    job = db.session.get(Job, job_id)
    if (
        job is None
        or job.kind != "posters"
        or job.created_by_id != current_user.id
        or job.state == "done"
    ):
        abort(404)
    from promkm_qr.tasks.stalls import print_posters

    print_posters.delay(job.id)
    return redirect(url_for("dinas.job", job_id=job.id))


@bp.route("/impor", methods=["GET", "POST"])
@staff_roles("operator")
def imports():
    """Upload a CSV or XLSX of stalls; the import runs as a background job."""
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        name = (upload.filename or "").lower() if upload else ""
        try:
            if not name:
                raise spreadsheet.ImportRefused(_("Pilih berkas CSV atau XLSX."))
            if not data:
                raise spreadsheet.ImportRefused(_("Berkas kosong."))
            spreadsheet.check_header(data, name)
        except spreadsheet.ImportRefused as exc:
            error = str(exc)
        else:
            suffix = ".xlsx" if name.endswith(".xlsx") else ".csv"
            key = f"imports/{uuid.uuid4().hex}{suffix}"
            get_storage().put(key, data)
            job = create_job(
                "import",
                {"upload_key": key, "filename": f"impor{suffix}"},
                created_by_id=current_user.id,
            )
            db.session.commit()
            from promkm_qr.tasks.stalls import import_stalls

            import_stalls.delay(job.id)
            return redirect(url_for("dinas.job", job_id=job.id))
    return render_template(
        "dinas/stalls/import.html", error=error, expected=spreadsheet.expected_columns()
    ), (400 if error else 200)
