"""Reminder pages of every signed-in person: the in-app list and the preferences."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from promkm_qr.extensions import db
from promkm_qr.notifications import inbox, preferences
from promkm_qr.notifications.forms import MarkReadForm, PreferencesForm
from promkm_qr.notifications.texts import kind_label

bp = Blueprint("notifications", __name__)


@bp.before_request
@login_required
def _signed_in():
    """Any role: each person sees only their own reminders."""
    return None


@bp.app_template_global("unread_notifications")
def unread_notifications() -> int:
    """The signed-in person's unread count, for the menu and the home pages."""
    if not current_user.is_authenticated:
        return 0
    return inbox.unread_count(current_user.id)


@bp.route("/")
def index():
    """The person's reminders, newest first, unread ones marked."""
    return render_template(
        "notifications/index.html",
        rows=inbox.latest(current_user.id),
        form=MarkReadForm(),
        kind_label=kind_label,
    )


@bp.route("/baca", methods=["POST"])
def mark_read():
    """Mark every reminder read."""
    if MarkReadForm().validate_on_submit():
        inbox.mark_all_read(current_user.id)
        db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/pengaturan", methods=["GET", "POST"], endpoint="preferences")
def preferences_page():
    """Which kinds of reminder and which channels the person receives."""
    form, error = PreferencesForm(), None
    choices = preferences.choices(current_user.id)
    if form.validate_on_submit():
        typed = {name: request.form.get(name, "") for name in ("email", "phone")}
        kinds, channels = request.form.getlist("kind"), request.form.getlist("channel")
        errors = {}
        try:
            email = preferences.check_email(typed["email"])
        except ValueError as exc:
            errors["email"] = str(exc)
        phone = None
        if choices["phone_editable"]:
            try:
                phone = preferences.check_phone(current_user.id, typed["phone"])
            except ValueError as exc:
                errors["phone"] = str(exc)
        if not errors:
            preferences.save(current_user.id, kinds, channels, email, phone)
            db.session.commit()
            flash(_("Pengaturan pemberitahuan disimpan."), "success")
            return redirect(url_for("notifications.preferences"))
        choices, error = preferences.as_sent(choices, kinds, channels, typed), errors
    page = render_template(
        "notifications/preferences.html", form=form, choices=choices, error=error
    )
    return page, 400 if error else 200
