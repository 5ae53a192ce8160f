"""A merchant registers a stall; it stays pending until dinas approve it."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.merchant import bp
from promkm_qr.models import Category, Kelurahan, Stall
from promkm_qr.stalls import registry

FIELDS = ("name", "kelurahan_id", "category_id", "address", "owner_nik", "nib", "lat", "lon")


@bp.route("/lapak/daftar", methods=["GET", "POST"])
def register_stall():
    """The merchant's own stall registration form, and the stalls they registered."""
    form = {k: request.form.get(k, "").strip() for k in FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = {
            **form,
            "kelurahan_id": int(form["kelurahan_id"]) if form["kelurahan_id"].isdigit() else None,
            "category_id": int(form["category_id"]) if form["category_id"].isdigit() else None,
            "phone": current_user.phone,
        }
        try:
            values = registry.clean(data)
            stall = registry.create_stall(
                values, actor_id=current_user.id, status="pending", owner=current_user
            )
            db.session.commit()
        except registry.StallInvalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(
                _("Lapak %(code)s terdaftar dan menunggu persetujuan dinas.", code=stall.code),
                "success",
            )
            return redirect(url_for("merchant.register_stall"))
    mine = db.session.scalars(
        select(Stall).where(Stall.owner_id == current_user.id).order_by(Stall.id.desc())
    ).all()
    return render_template(
        "merchant/register_stall.html",
        form=form,
        errors=errors,
        stalls=mine,
        kelurahan=db.session.scalars(select(Kelurahan).order_by(Kelurahan.name)).all(),
        categories=db.session.scalars(select(Category).order_by(Category.name)).all(),
    ), (400 if errors else 200)
