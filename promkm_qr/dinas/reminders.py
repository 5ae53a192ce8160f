"""The reminders' delivery log of the staff member's scope."""

from flask import render_template
from flask_login import current_user

from promkm_qr.auth.access import staff_roles
from promkm_qr.dinas import bp

# The module, not its names: it imports dinas.scope, which loads this package first.
from promkm_qr.notifications import log
from promkm_qr.notifications.preferences import channel_label
from promkm_qr.notifications.texts import kind_label


@bp.route("/pemberitahuan", endpoint="delivery_log")
@staff_roles("operator", "reviewer")
def delivery_log_page():
    """Every reminder of the scope with its channel and status, newest first."""
    return render_template(
        "dinas/delivery_log.html",
        rows=log.delivery_log(current_user),
        kind_label=kind_label,
        channel_label=channel_label,
        status_labels=log.STATUS_LABELS,
    )
