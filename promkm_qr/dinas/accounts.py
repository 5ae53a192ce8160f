"""Account pages of the dinas workspace: the ASN roster, staff accounts and access resets."""

import uuid

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.accounts import roster, second_factor, staff
from promkm_qr.accounts.activation import reset_access
from promkm_qr.accounts.roster_file import RosterFileError
from promkm_qr.auth.access import staff_roles
from promkm_qr.core.nik import mask_phone
from promkm_qr.core.text import whole_number
from promkm_qr.dinas import bp
from promkm_qr.dinas.dashboard import int_arg
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.dinas.stalls import stall_in_scope
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import Opd, User
from promkm_qr.personal_data.services import REASON_MAX
from promkm_qr.storage import get_storage


def _int_form(name: str) -> int | None:
    """A positive integer form field, or None."""
    value = request.form.get(name, "")
    return whole_number(value)


# The ASN list and an ASN's access page show each person's NIP and name in full.
ROSTER_SHOWN = {"nip": "full", "name": "full"}


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
                raise RosterFileError(_("Pilih berkas CSV atau XLSX."))
            result = roster.import_roster(upload.filename, upload.read())
        except RosterFileError as exc:
            problem = str(exc)
        if result is not None and not result.errors:
            return redirect(_record_import(result))
        db.session.rollback()
    rows, total = roster.asn_page(request.args.get("q", ""), int_arg("opd"), int_arg("hal") or 1)
    refused = problem is not None or (result is not None and result.errors)
    audit.record_personal_list_view(
        current_user.id, "user", [u.id for u, _p, _o in rows], request.path, ROSTER_SHOWN
    )
    db.session.commit()
    return render_template(
        "dinas/roster.html",
        result=result,
        problem=problem,
        rows=rows,
        total=total,
        page=int_arg("hal") or 1,
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


@bp.route("/staf/<int:user_id>/dua-langkah", methods=["POST"])
@staff_roles()
def staff_second_factor_reset(user_id: int):
    """Clear a staff member's second factor (admin only): they enroll again at next sign-in."""
    user = db.session.get(User, user_id)
    if user is None or user.role != "dinas":
        abort(404)
    if not Form().validate_on_submit():
        abort(400)
    second_factor.reset(user, current_user.id)
    flash(
        _(
            "Verifikasi dua langkah %(name)s diatur ulang; semua sesinya berakhir.",
            name=user.username,
        )
    )
    return redirect(url_for("dinas.staff_edit", user_id=user.id))


@bp.route("/asn/<int:asn_id>/akses", methods=["GET", "POST"])
@staff_roles("operator")
def asn_access(asn_id: int):
    """Reset an ASN's access; like the roster, for city-wide staff only."""
    if scoped_kelurahan_ids(current_user) is not None:
        abort(403)
    person = db.session.get(User, asn_id)
    if person is None or person.role != "asn":
        abort(404)
    audit.record_personal_view(current_user.id, "user", person.id, request.path, ROSTER_SHOWN)
    db.session.commit()
    return _access_page(
        person,
        person.nip,
        back=("dinas.roster", {}),
        data_request=url_for("dinas.asn_data_request", asn_id=person.id),
    )


@bp.route("/lapak/<int:stall_id>/akses", methods=["GET", "POST"])
@staff_roles("operator")
def stall_owner_access(stall_id: int):
    """Reset the access of a stall's owner (staff whose scope covers the stall)."""
    stall = stall_in_scope(stall_id)
    person = stall.owner
    if person is None or person.role != "merchant":
        abort(404)
    audit.record_personal_view(
        current_user.id, "user", person.id, request.path, {"phone": "masked"}
    )
    db.session.commit()
    shown = mask_phone(person.phone) if person.phone else "-"
    return _access_page(
        person,
        shown,
        back=("dinas.stall_detail", {"stall_id": stall.id}),
        data_request=url_for("dinas.stall_owner_data_request", stall_id=stall.id),
    )


def _access_page(person: User, login_key: str, back: tuple[str, dict], data_request: str):
    """GET: the account's state and what a reset does; POST: reset, show the code once."""
    code = None
    if request.method == "POST":
        code = reset_access(person, current_user.id)
        db.session.commit()
    response = make_response(
        render_template(
            "dinas/access.html",
            person=person,
            login_key=login_key,
            code=code,
            back=back,
            data_request=data_request if current_user.staff_role == "admin" else None,
            reason_max=REASON_MAX,
        )
    )
    # The code is shown on this page only: never kept by a cache or the browser's history.
    response.headers["Cache-Control"] = "no-store"
    return response
