"""Settings: quota rules, counted states, report ceiling, branding, privacy, sessions (admin)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from promkm_qr.accounts import sessions
from promkm_qr.auth.access import staff_roles
from promkm_qr.dashboard import settings as service
from promkm_qr.dinas import bp
from promkm_qr.models.report import REPORT_STATES


@bp.route("/pengaturan", methods=["GET", "POST"])
@staff_roles()
def settings():
    """Show the settings form; on a valid submit store it and log every change."""
    values, errors = service.current_values(), {}
    if request.method == "POST":
        values, parsed, errors = service.parse_values(request.form)
        if not errors:
            changed = service.save(parsed, current_user.id)
            flash(_("Pengaturan disimpan (%(n)s perubahan).", n=changed))
            return redirect(url_for("dinas.settings"))
    return render_template(
        "dinas/settings.html",
        values=values,
        errors=errors,
        states=REPORT_STATES,
        classes=service.rule_classes(),
        member_days=(sessions.MEMBER_IDLE.days, sessions.MEMBER_LIFETIME.days),
    ), (400 if errors else 200)
