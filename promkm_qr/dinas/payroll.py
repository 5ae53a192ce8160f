"""The TPP file for payroll: a closed month, city-wide or per OPD, made by a background job."""

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Regexp

from promkm_qr.api import compliance_data
from promkm_qr.api.schemas import MONTH
from promkm_qr.auth.access import staff_roles
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.jobs import create_job
from promkm_qr.models import Opd


class TppForm(Form):
    """Which month, which OPD, which format."""

    month = StringField(
        _l("Bulan (TTTT-BB)"), validators=[DataRequired(), Regexp(MONTH, message=_l("TTTT-BB"))]
    )
    opd_id = SelectField(_l("OPD"), coerce=int, choices=[])
    fmt = SelectField(
        _l("Format"), choices=[SelectChoice("xlsx", "XLSX"), SelectChoice("csv", "CSV")]
    )


@bp.route("/tpp", methods=["GET", "POST"])
@staff_roles("operator")
def tpp():
    """Start a TPP file job for a closed month; the job page offers the download."""
    if scoped_kelurahan_ids(current_user) is not None:
        abort(403)  # the roster has no region: city-wide staff only
    form = TppForm()
    opds = db.session.execute(select(Opd.id, Opd.name).order_by(Opd.name)).all()
    form.opd_id.choices = [
        SelectChoice(0, _("Seluruh kota")),
        *(SelectChoice(o.id, o.name) for o in opds),
    ]
    if form.validate_on_submit():
        if compliance_data.month_ahead(form.month.data):
            form.month.errors.append(_("Bulan ini belum tiba; periksa tahun dan bulannya."))
        elif not compliance_data.month_closed_text(form.month.data):
            form.month.errors.append(_("Bulan ini belum ditutup; angkanya masih bisa berubah."))
        else:
            params = {"month": form.month.data, "opd_id": form.opd_id.data or None,
                      "fmt": form.fmt.data}  # fmt: skip
            job = create_job("tpp", params, created_by_id=current_user.id)
            db.session.commit()
            from promkm_qr.tasks.payroll import make_tpp_file

            make_tpp_file.delay(job.id)
            return redirect(url_for("dinas.job", job_id=job.id))
    return render_template("dinas/tpp.html", form=form), (400 if form.errors else 200)
