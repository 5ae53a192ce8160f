"""The page where any signed-in person sees their sessions and ends the others."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from promkm_qr.accounts import sessions
from promkm_qr.auth import bp
from promkm_qr.forms import Form


@bp.route("/sesi")
@login_required
def sessions_page():
    """Every session of this account still in force: device, times, masked address."""
    return render_template(
        "auth/sessions.html",
        rows=sessions.live_sessions(current_user),
        limits={k: _span(v) for k, v in vars(sessions.limits(current_user.role)).items()},
        form=Form(),
    )


def _span(limit: timedelta) -> str:
    """A limit in the largest whole unit: "30 menit", "12 jam", "7 hari"."""
    minutes = int(limit.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return _("%(n)s hari", n=minutes // (24 * 60))
    if minutes % 60 == 0:
        return _("%(n)s jam", n=minutes // 60)
    return _("%(n)s menit", n=minutes)


@bp.post("/sesi/akhiri-lain")
@login_required
def end_other_sessions():
    """End every session of this account but the one making the request."""
    if not Form().validate_on_submit():
        abort(400)
    count = sessions.end_others(current_user._get_current_object())
    flash(_("%(n)s sesi lain diakhiri.", n=count), "success")
    return redirect(url_for("auth.sessions_page"))
