"""API clients (admin only): list, create (the token is shown once) and revoke."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from promkm_qr.api import clients
from promkm_qr.auth.access import staff_roles
from promkm_qr.dinas import bp
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.models import Opd
from promkm_qr.models.base import utcnow


class ApiClientForm(Form):
    """A new client: its name, scopes, optional OPD and lifetime."""

    name = StringField(_l("Nama sistem"), validators=[DataRequired(), Length(max=100)])
    scopes = SelectMultipleField(
        _l("Cakupan"),
        choices=[SelectChoice(s, s) for s in clients.SCOPES],
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    opd_id = SelectField(_l("Hanya OPD"), coerce=int, choices=[])
    days = IntegerField(
        _l("Berlaku (hari, kosong: tanpa batas)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )


def _form(blank: bool = False) -> ApiClientForm:
    """The form with the OPD list (0: every OPD); blank: not filled from the request."""
    form = ApiClientForm(formdata=None) if blank else ApiClientForm()
    opds = db.session.execute(select(Opd.id, Opd.name).order_by(Opd.name)).all()
    form.opd_id.choices = [
        SelectChoice(0, _("Semua OPD")),
        *(SelectChoice(o.id, o.name) for o in opds),
    ]
    return form


@bp.route("/klien-api", methods=["GET", "POST"])
@staff_roles()
def api_clients():
    """The clients; a valid submit makes one and shows its token this once."""
    form, token = _form(), None
    if form.validate_on_submit():
        days = form.days.data
        _id, token = clients.create_client(
            form.name.data,
            form.scopes.data,
            opd_id=form.opd_id.data or None,
            expires_at=utcnow() + timedelta(days=days) if days else None,
            actor_id=current_user.id,
        )
        form = _form(blank=True)  # the token is shown once; the next client starts afresh
    opds = {o.id: o.name for o in db.session.execute(select(Opd.id, Opd.name))}
    return render_template(
        "dinas/api_clients.html",
        form=form,
        token=token,
        clients=clients.list_clients(),
        opds=opds,
        now=utcnow(),
    ), (400 if form.errors else 200)


@bp.route("/klien-api/<int:client_id>/cabut", methods=["POST"])
@staff_roles()
def api_client_revoke(client_id: int):
    """Revoke a client's token at once."""
    if not clients.revoke_client(client_id, current_user.id):
        abort(404)
    flash(_("Token klien dicabut."))
    return redirect(url_for("dinas.api_clients"))
