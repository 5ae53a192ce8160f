"""Stall registry, imports, categories and poster printing for dinas staff."""

import io
import uuid

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.auth.access import staff_roles
from promkm_qr.core.nik import mask_phone
from promkm_qr.core.qris import InvalidQris
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Category, Job, Kecamatan, Kelurahan, PosterPrint, Stall
from promkm_qr.stalls import importer, posters, registry
from promkm_qr.storage import get_storage

FORM_FIELDS = (
    "name",
    "kelurahan_id",
    "category_id",
    "address",
    "lat",
    "lon",
    "nib",
    "owner_nik",
    "phone",
    "qris_payload",
)


def _regions() -> dict:
    """Kecamatan, kelurahan (within the user's scope) and categories for the forms."""
    ids = scoped_kelurahan_ids(current_user)
    kel = select(Kelurahan).order_by(Kelurahan.name)
    if ids is not None:
        kel = kel.where(Kelurahan.id.in_(ids))
    return {
        "kelurahan": db.session.scalars(kel).all(),
        "kecamatan": db.session.scalars(select(Kecamatan).order_by(Kecamatan.name)).all(),
        "categories": db.session.scalars(select(Category).order_by(Category.name)).all(),
    }


def _stall_in_scope(stall_id: int) -> Stall:
    """A stall this staff member may see, else 404."""
    stall = db.session.get(Stall, stall_id)
    ids = scoped_kelurahan_ids(current_user)
    if stall is None or (ids is not None and stall.kelurahan_id not in ids):
        abort(404)
    return stall


def _int(name: str) -> int | None:
    value = request.values.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/lapak")
@staff_roles("operator", "reviewer", "viewer")
def stalls():
    """Search stalls by name, code, owner, kelurahan and status, paged by keyset."""
    filters = registry.SearchFilters(
        q=request.args.get("q", "")[:100],
        kelurahan_id=_int("kelurahan"),
        kecamatan_id=_int("kecamatan"),
        status=request.args.get("status", "")
        if request.args.get("status") in ("pending", "active", "suspended")
        else "",
    )
    found, next_id = registry.search(filters, current_user, before_id=_int("sebelum"))
    args = {k: v for k, v in request.args.items() if k != "sebelum"}
    return render_template(
        "dinas/stalls/list.html",
        stalls=found,
        next_id=next_id,
        filters=filters,
        args=args,
        **_regions(),
    )


def _form_values(stall: Stall | None = None) -> dict:
    """What the form shows: the posted values, else the stall's."""
    if request.method == "POST":
        return {k: request.form.get(k, "").strip() for k in FORM_FIELDS}
    if stall is None:
        return dict.fromkeys(FORM_FIELDS, "")
    return {k: "" if getattr(stall, k, None) is None else getattr(stall, k) for k in FORM_FIELDS}


def _to_clean(form: dict) -> dict:
    """Form strings to the types registry.clean expects."""
    return {
        **form,
        "kelurahan_id": int(form["kelurahan_id"]) if form["kelurahan_id"].isdigit() else None,
        "category_id": int(form["category_id"]) if form["category_id"].isdigit() else None,
    }


@bp.route("/lapak/baru", methods=["GET", "POST"])
@staff_roles("operator")
def stall_new():
    """Register a stall; pasting its QRIS prefills name and NMID."""
    form, errors = _form_values(), {}
    if request.method == "POST" and request.form.get("action") == "qris":
        try:
            info = registry.qris_prefill(form["qris_payload"])
        except InvalidQris as exc:
            errors["qris_payload"] = str(exc)
        else:
            form["name"] = form["name"] or info["name"]
            flash(_("QRIS terbaca: %(name)s, %(city)s, NMID %(nmid)s.", **info), "success")
    elif request.method == "POST":
        try:
            values = registry.clean(_to_clean(form))
            scope = scoped_kelurahan_ids(current_user)
            if scope is not None and values["kelurahan_id"] not in scope:
                abort(403)
            stall = registry.create_stall(values, actor_id=current_user.id)
            db.session.commit()
        except registry.StallInvalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(_("Lapak %(code)s terdaftar.", code=stall.code), "success")
            return redirect(url_for("dinas.stall_detail", stall_id=stall.id))
    status = 400 if errors else 200
    return render_template(
        "dinas/stalls/form.html", form=form, errors=errors, stall=None, **_regions()
    ), status


@bp.route("/lapak/<int:stall_id>/ubah", methods=["GET", "POST"])
@staff_roles("operator")
def stall_edit(stall_id: int):
    """Edit a stall's details (its kelurahan, and so its code, stays)."""
    stall = _stall_in_scope(stall_id)
    form, errors = _form_values(stall), {}
    form["kelurahan_id"] = str(stall.kelurahan_id)
    if request.method == "POST":
        try:
            registry.update_stall(stall, registry.clean(_to_clean(form)), actor_id=current_user.id)
            db.session.commit()
        except registry.StallInvalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(_("Perubahan tersimpan."), "success")
            return redirect(url_for("dinas.stall_detail", stall_id=stall.id))
    status = 400 if errors else 200
    # Operators edit the owner's NIK and phone, so the form shows them in full: recorded.
    _record_view(stall, {"owner_nik": "full", "phone": "full"})
    return render_template(
        "dinas/stalls/form.html", form=form, errors=errors, stall=stall, **_regions()
    ), status


def _record_view(stall: Stall, shown: dict[str, str]) -> None:
    """Write to the audit trail that this staff member saw the stall owner's personal data."""
    shown = {field: how for field, how in shown.items() if getattr(stall, field)}
    if not shown:
        return
    audit.record_personal_view(current_user.id, "stall", stall.id, request.path, shown)
    db.session.commit()


@bp.route("/lapak/<int:stall_id>")
@staff_roles("operator", "reviewer", "viewer")
def stall_detail(stall_id: int):
    """A stall's details, status actions and poster history."""
    stall = _stall_in_scope(stall_id)
    prints = db.session.scalars(
        select(PosterPrint)
        .where(PosterPrint.stall_id == stall.id)
        .order_by(PosterPrint.id.desc())
        .limit(20)
    ).all()
    _record_view(stall, {"owner_nik": "masked", "phone": "masked"})
    return render_template(
        "dinas/stalls/detail.html",
        stall=stall,
        prints=prints,
        nik=registry.masked_nik(stall),
        phone=mask_phone(stall.phone) if stall.phone else "-",
    )


@bp.route("/lapak/<int:stall_id>/status", methods=["POST"])
@staff_roles("operator")
def stall_status(stall_id: int):
    """Approve, suspend or reactivate a stall."""
    stall = _stall_in_scope(stall_id)
    status = request.form.get("status")
    if status not in ("active", "suspended"):
        abort(400)
    registry.set_status(stall, status, actor_id=current_user.id)
    db.session.commit()
    flash(_("Status lapak diperbarui."), "success")
    return redirect(url_for("dinas.stall_detail", stall_id=stall.id))


@bp.route("/lapak/<int:stall_id>/poster", methods=["POST"])
@staff_roles("operator")
def stall_poster(stall_id: int):
    """Print one stall's poster now; optionally revoke every poster printed before."""
    stall = _stall_in_scope(stall_id)
    fmt = request.form.get("format", "poster")
    if fmt not in posters.FORMATS:
        abort(400)
    pdf = posters.print_one(
        stall, fmt, revoke=request.form.get("revoke") == "1", actor_id=current_user.id
    )
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{fmt}-{stall.code}-v{stall.poster_version}.pdf",
    )


def _selection(form) -> tuple[list[int], str | None]:
    """The stall ids a bulk print names (all, kecamatan, kelurahan or listed codes)."""
    scope = form.get("scope", "all")
    filters = registry.SearchFilters(status="active")
    if scope == "kecamatan":
        filters.kecamatan_id = int(form.get("kecamatan", 0) or 0) or -1
    elif scope == "kelurahan":
        filters.kelurahan_id = int(form.get("kelurahan", 0) or 0) or -1
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
    return render_template("dinas/stalls/posters.html", error=error, jobs=jobs, **_regions())


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
            if not data:
                raise importer.ImportRefused(_("Pilih berkas CSV atau XLSX."))
            importer.check_header(data, name)
        except importer.ImportRefused as exc:
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
        "dinas/stalls/import.html", error=error, expected=importer.expected_columns()
    ), (400 if error else 200)


@bp.route("/kategori", methods=["GET", "POST"])
@staff_roles("operator")
def categories():
    """The category list: rename a category or add one."""
    if request.method == "POST":
        name = " ".join(request.form.get("name", "").split())[:100]
        cat_id = _int("id")
        if not name:
            flash(_("Nama kategori wajib diisi."), "error")
        elif cat_id:
            cat = db.session.get(Category, cat_id) or abort(404)
            audit.record(
                "category.renamed",
                "category",
                cat.id,
                actor_id=current_user.id,
                data={"from": cat.name, "to": name},
            )
            cat.name = name
            db.session.commit()
        else:
            slug = "-".join(name.lower().replace("&", " ").split())[:32]
            if db.session.scalar(select(Category).where(Category.slug == slug)):
                flash(_("Kategori itu sudah ada."), "error")
            else:
                db.session.add(Category(slug=slug, name=name))
                audit.record("category.added", "category", slug, actor_id=current_user.id)
                db.session.commit()
        return redirect(url_for("dinas.categories"))
    cats = db.session.scalars(select(Category).order_by(Category.name)).all()
    return render_template("dinas/stalls/categories.html", categories=cats)
