"""Public views."""

from flask import redirect, url_for
from flask_login import current_user

from promkm_qr.auth.views import home_url
from promkm_qr.extensions import db
from promkm_qr.public import bp


@bp.route("/")
def index():
    """Send a signed-in person to their home, everyone else to sign in."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/healthz")
def health():
    """Liveness and database reachability, for load balancers."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
