"""Dashboard, ASN roster, staff accounts and exports of the dinas workspace."""

import uuid

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.auth.access import staff_roles
from promkm_qr.dashboard import charts, compliance, exports, queries, roster, staff
from promkm_qr.dashboard.filters import build_filters, parse_date
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import Kecamatan, Kelurahan, Opd, User
from promkm_qr.storage import get_storage

EXPORTS = {
    "laporan": exports.reports_export,
    "lapak": exports.stalls_export,
    "asn": exports.asn_export,
    "tinjauan": exports.review_export,
}


def _int_arg(name: str) -> int | None:
    """A positive integer query argument, or None."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _int_form(name: str) -> int | None:
    """A positive integer form field, or None."""
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else None


def _filters():
    """The dashboard/export filters of this request, inside the staff member's scope."""
    return build_filters(
        scoped_kelurahan_ids(current_user),
        parse_date(request.args.get("mulai")),
        parse_date(request.args.get("sampai")),
        _int_arg("kecamatan"),
        _int_arg("kelurahan"),
    )


def _area_options() -> list[Kelurahan]:
    """Kelurahan the staff member may pick, grouped by kecamatan in the template."""
    query = select(Kelurahan).join(Kecamatan).order_by(Kecamatan.code, Kelurahan.code)
    allowed = scoped_kelurahan_ids(current_user)
    if allowed is not None:
        query = query.where(Kelurahan.id.in_(allowed))
    return list(db.session.scalars(query))


@bp.route("/dasbor")
def dashboard():
    """Totals, charts and lists for a period and area (default: this month, whole scope)."""
    f = _filters()
    by_day = queries.by_day(f)
    by_kelurahan = queries.by_kelurahan(f)
    by_kecamatan = queries.by_kecamatan(by_kelurahan)
    quota = None if f.scope_limited else compliance.quota_panel(f)
    top, idle = queries.stall_panels(f)
    return render_template(
        "dinas/dashboard.html",
        f=f,
        args=request.args,
        areas=_area_options(),
        counted=queries.counted_states(),
        totals=queries.totals(f),
        by_day=by_day,
        day_chart=charts.column_chart(by_day, _("Nominal per hari")),
        by_kecamatan=by_kecamatan,
        kecamatan_chart=charts.bar_chart(by_kecamatan, _("Nominal per kecamatan")),
        by_kelurahan=by_kelurahan,
        by_opd=queries.by_opd(f),
        opd_compliance=None if quota is None else quota["by_opd"],
        by_category=queries.by_category(f),
        top=top,
        idle=idle,
        quota=quota,
        review=queries.review_reasons(f),
    )


@bp.route("/ekspor/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """Download an export with the dashboard's current filters, streamed."""
    if kind not in EXPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    f = _filters()
    if kind == "asn" and f.scope_limited:
        abort(403)  # the roster has no region, so it is not in a scoped view
    if kind == "tinjauan" and current_user.staff_role not in ("admin", "reviewer"):
        abort(403)
    made = (
        exports.asn_export(f, request.args.get("kurang") == "1")
        if kind == "asn"
        else EXPORTS[kind](f)
    )
    name = f"{kind}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        return send_file(exports.xlsx_file(made), as_attachment=True, download_name=name)
    return Response(
        stream_with_context(exports.csv_chunks(made)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/asn", endpoint="roster", methods=["GET", "POST"])
@staff_roles("operator")
def roster_page():
    """The ASN list and the roster import; the roster has no region, so city-wide staff only."""
    if scoped_kelurahan_ids(current_user) is not None:
        abort(403)
    result, problem = None, None
    if request.method == "POST":
        upload = request.files.get("berkas")
        try:
            if upload is None or not upload.filename:
                raise roster.RosterFileError(_("Pilih berkas CSV atau XLSX."))
            result = roster.import_roster(upload.filename, upload.read())
        except roster.RosterFileError as exc:
            problem = str(exc)
        if result is not None and not result.errors:
            return redirect(_record_import(result))
        db.session.rollback()
    rows, total = roster.asn_page(request.args.get("q", ""), _int_arg("opd"), _int_arg("hal") or 1)
    refused = problem is not None or (result is not None and result.errors)
    return render_template(
        "dinas/roster.html",
        result=result,
        problem=problem,
        rows=rows,
        total=total,
        page=_int_arg("hal") or 1,
        opds=db.session.scalars(select(Opd).order_by(Opd.name)).all(),
        on_roster=roster.roster_count(),
    ), (400 if refused else 200)


@bp.post("/opd")
@staff_roles("operator")
def opd_save():
    """Add or rename an OPD from the roster page."""
    if scoped_kelurahan_ids(current_user) is not None:
        abort(403)
    problem = roster.save_opd(
        _int_form("opd_id"),
        request.form.get("code", ""),
        request.form.get("name", ""),
        current_user.id,
    )
    if problem:
        db.session.rollback()
        flash(problem, "error")
    else:
        db.session.commit()
        flash(_("OPD disimpan."))
    return redirect(url_for("dinas.roster"))


def _record_import(result: roster.RosterResult) -> str:
    """Commit an applied import with its audit entry and codes file; return where to go next."""
    job = create_job("roster_import", created_by_id=current_user.id)
    job.total = job.done = result.created + result.updated
    if result.codes:
        job.result_key = f"roster/{uuid.uuid4().hex}.csv"
        get_storage().put(job.result_key, roster.codes_csv(result.codes))
    finish_job(job)
    counts = {
        "created": result.created,
        "updated": result.updated,
        "moved": result.moved,
        "deactivated": result.deactivated,
        "new_opds": result.new_opds,
    }
    job.params = counts
    audit.record("roster.imported", "job", job.id, actor_id=current_user.id, data=counts)
    db.session.commit()
    flash(
        _(
            "Roster diimpor: %(c)s baru, %(u)s diperbarui (%(m)s pindah OPD), %(d)s dinonaktifkan.",
            c=result.created,
            u=result.updated,
            m=result.moved,
            d=result.deactivated,
        )
    )
    return url_for("dinas.job", job_id=job.id) if result.codes else url_for("dinas.roster")


@bp.route("/staf", endpoint="staff", methods=["GET", "POST"])
@staff_roles()
def staff_page():
    """Staff accounts with roles and scopes (admin only); the form adds an account."""
    form = staff.StaffForm()
    if form.validate_on_submit() and staff.save_staff(form, current_user.id):
        flash(_("Akun petugas disimpan."))
        return redirect(url_for("dinas.staff"))
    return render_template(
        "dinas/staff.html", form=form, people=staff.staff_list(), label=staff.scope_label
    ), (400 if request.method == "POST" else 200)


@bp.route("/staf/<int:user_id>", methods=["GET", "POST"])
@staff_roles()
def staff_edit(user_id: int):
    """Change a staff account's role, scope, password or active flag (admin only)."""
    user = db.session.get(User, user_id)
    if user is None or user.role != "dinas":
        abort(404)
    form = staff.StaffForm(obj=user)
    if request.method == "GET":
        form.scope.data = staff.scope_value(user)
    if form.validate_on_submit() and staff.save_staff(form, current_user.id, user):
        flash(_("Akun petugas disimpan."))
        return redirect(url_for("dinas.staff"))
    status = 400 if request.method == "POST" else 200
    return render_template("dinas/staff_edit.html", form=form, person=user), status
