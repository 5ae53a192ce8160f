"""Stall registry and categories for dinas staff: search, create, edit, status, one poster."""

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.auth.access import staff_roles
from promkm_qr.core.nik import mask_phone
from promkm_qr.core.qris import InvalidQris
from promkm_qr.core.text import hidden_character, hidden_refused
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Category, Kecamatan, Kelurahan, PosterPrint, Stall
from promkm_qr.stalls import posters, registry

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


def form_regions() -> dict:
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
        **form_regions(),
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
        "dinas/stalls/form.html", form=form, errors=errors, stall=None, **form_regions()
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
        "dinas/stalls/form.html", form=form, errors=errors, stall=stall, **form_regions()
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


@bp.route("/kategori", methods=["GET", "POST"])
@staff_roles("operator")
def categories():
    """The category list: rename a category or add one."""
    if request.method == "POST":
        name = " ".join(request.form.get("name", "").split())[:100]
        cat_id = _int("id")
        hidden = hidden_character(request.form.get("name", ""))
        if not name:
            flash(_("Nama kategori wajib diisi."), "error")
        elif hidden:
            flash(hidden_refused(hidden), "error")
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
