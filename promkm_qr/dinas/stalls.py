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
from promkm_qr.core.text import hidden_character, hidden_refused, whole_number
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Category, Kecamatan, Kelurahan, PosterPrint, Stall
from promkm_qr.stalls import posters, registry
from promkm_qr.stalls.forms import StallForm


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


def stall_in_scope(stall_id: int) -> Stall:
    """A stall this staff member may see, else 404."""
    stall = db.session.get(Stall, stall_id)
    ids = scoped_kelurahan_ids(current_user)
    if stall is None or (ids is not None and stall.kelurahan_id not in ids):
        abort(404)
    return stall


def _int(name: str) -> int | None:
    value = request.values.get(name, "")
    return whole_number(value)


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


def _stall_form(stall: Stall | None = None) -> StallForm:
    """The stall form: what was posted, else the stall's values; choices in the user's scope."""
    regions = form_regions()
    form = StallForm(obj=stall)
    form.set_choices(regions["kelurahan"], regions["categories"])
    return form


def _render_form(form: StallForm, stall: Stall | None):
    status = 400 if form.errors else 200
    return render_template("dinas/stalls/form.html", form=form, stall=stall), status


def _prefill_from_qris(form: StallForm) -> None:
    """Fill the name from a pasted QRIS (unless one was typed) and say what it holds."""
    try:
        info = registry.qris_prefill(form.qris_payload.data)
    except InvalidQris as exc:
        form.show_errors({"qris_payload": str(exc)})
    else:
        form.name.data = form.name.data or info["name"]
        flash(_("QRIS terbaca: %(name)s, %(city)s, NMID %(nmid)s.", **info), "success")


def _create(form: StallForm) -> Stall | None:
    """The new stall, or None with the registry's messages put on the form."""
    try:
        values = registry.clean(form.values())
        scope = scoped_kelurahan_ids(current_user)
        if scope is not None and values["kelurahan_id"] not in scope:
            abort(403)
        stall = registry.create_stall(values, actor_id=current_user.id)
        db.session.commit()
    except registry.StallInvalid as exc:
        db.session.rollback()
        form.show_errors(exc.errors)
        return None
    return stall


@bp.route("/lapak/baru", methods=["GET", "POST"])
@staff_roles("operator")
def stall_new():
    """Register a stall; pasting its QRIS prefills name and NMID."""
    form = _stall_form()
    if form.validate_on_submit():
        if form.read_qris.data:
            _prefill_from_qris(form)
        elif stall := _create(form):
            flash(_("Lapak %(code)s terdaftar.", code=stall.code), "success")
            return redirect(url_for("dinas.stall_detail", stall_id=stall.id))
    return _render_form(form, None)


@bp.route("/lapak/<int:stall_id>/ubah", methods=["GET", "POST"])
@staff_roles("operator")
def stall_edit(stall_id: int):
    """Edit a stall's details (its kelurahan, and so its code, stays)."""
    stall = stall_in_scope(stall_id)
    form = _stall_form(stall)
    form.kelurahan_id.data = stall.kelurahan_id
    if form.validate_on_submit():
        try:
            registry.update_stall(stall, registry.clean(form.values()), actor_id=current_user.id)
            db.session.commit()
        except registry.StallInvalid as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            flash(_("Perubahan tersimpan."), "success")
            return redirect(url_for("dinas.stall_detail", stall_id=stall.id))
    # Operators edit the owner's NIK and phone, so the form shows them in full: recorded.
    _record_view(stall, {"owner_nik": "full", "phone": "full"})
    return _render_form(form, stall)


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
    stall = stall_in_scope(stall_id)
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
        formats=posters.FORMAT_LABELS,
    )


@bp.route("/lapak/<int:stall_id>/status", methods=["POST"])
@staff_roles("operator")
def stall_status(stall_id: int):
    """Approve, suspend or reactivate a stall."""
    stall = stall_in_scope(stall_id)
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
    stall = stall_in_scope(stall_id)
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
