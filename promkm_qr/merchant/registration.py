"""A merchant registers a stall; it stays pending until dinas approve it."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.merchant import bp
from promkm_qr.models import Category, Kelurahan, Stall
from promkm_qr.stalls import registry
from promkm_qr.stalls.forms import MerchantStallForm


@bp.route("/lapak/daftar", methods=["GET", "POST"])
def register_stall():
    """The merchant's own stall registration form, and the stalls they registered."""
    form = MerchantStallForm()
    form.set_choices(
        db.session.scalars(select(Kelurahan).order_by(Kelurahan.name)).all(),
        db.session.scalars(select(Category).order_by(Category.name)).all(),
    )
    if form.validate_on_submit():
        try:
            values = registry.clean({**form.values(), "phone": current_user.phone})
            stall = registry.create_stall(
                values, actor_id=current_user.id, status="pending", owner=current_user
            )
            db.session.commit()
        except registry.StallInvalid as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            flash(
                _("Lapak %(code)s terdaftar dan menunggu persetujuan dinas.", code=stall.code),
                "success",
            )
            return redirect(url_for("merchant.register_stall"))
    mine = db.session.scalars(
        select(Stall).where(Stall.owner_id == current_user.id).order_by(Stall.id.desc())
    ).all()
    return render_template("merchant/register_stall.html", form=form, stalls=mine), (
        400 if form.errors else 200
    )
