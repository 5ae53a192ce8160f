"""The person's page: ask for the archive of one's own data, see its state, download it."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from promkm_qr.forms import Form
from promkm_qr.jobs import state_label
from promkm_qr.personal_data import bp, services
from promkm_qr.storage import get_storage


def _person():
    """ASN and merchants only; staff have no archive of their own here (404, like documents)."""
    if current_user.role not in services.PEOPLE:
        abort(404)
    return current_user


@bp.route("/data-saya", methods=["GET", "POST"])
@login_required
def mine():
    """GET: the latest request and its file; POST: ask for a new archive."""
    person = _person()
    form = Form()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            services.start(person, person.id)
            flash(_("Permintaan diterima. Berkas sedang dibuat; muat ulang halaman ini."))
        except services.ExportRefused as exc:
            flash(str(exc), "error")
        return redirect(url_for("personal_data.mine"))
    job = services.latest_own(person)
    return render_template(
        "personal_data/mine.html",
        form=form,
        job=job,
        state=state_label(job.state) if job else None,
        ready=services.downloadable(job),
        expires=services.expires_at(job) if job else None,
        keep_days=services.KEEP_DAYS,
    )


@bp.route("/data-saya/unduh")
@login_required
def download():
    """The person's latest archive; nobody else's can be named here, so others get 404."""
    person = _person()
    job = services.latest_own(person)
    if not services.downloadable(job):
        abort(404)
    services.record_download(job, person.id)
    response = send_file(
        get_storage().path(job.result_key),
        mimetype="application/zip",
        as_attachment=True,
        download_name=services.download_name(job),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
