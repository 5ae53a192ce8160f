"""The Akun page: one place for the settings of one's own account, so the menu keeps only
the everyday links. It links to the existing pages (their URLs stay; e-mails name them)."""

from flask import render_template
from flask_login import current_user, login_required

from promkm_qr.accounts import second_factor
from promkm_qr.auth import bp
from promkm_qr.personal_data.services import PEOPLE

# The pages the Akun page links to: the menu marks Akun as current on each of them.
ACCOUNT_ENDPOINTS = (
    "auth.account",
    "auth.change_password",
    "auth.sessions_page",
    "notifications.preferences",
    "personal_data.mine",
)


@bp.app_template_global("account_endpoints")
def account_endpoints() -> tuple[str, ...]:
    return ACCOUNT_ENDPOINTS


@bp.route("/akun")
@login_required
def account():
    """Any role, always its own account: there is no id in the URL to name another."""
    user = current_user._get_current_object()
    return render_template(
        "auth/account.html",
        own_data=user.role in PEOPLE,
        # Staff have no page of their own for it (an admin resets it): its state is shown.
        second_factor=second_factor.enrolled(user) if user.role == "dinas" else None,
    )
