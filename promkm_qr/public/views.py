"""Public views."""

from flask import current_app, redirect, render_template, send_from_directory, url_for
from flask_babel import get_locale
from flask_login import current_user

from promkm_qr import retention
from promkm_qr.accounts import activation
from promkm_qr.asn.views import form_page
from promkm_qr.auth.views import home_url
from promkm_qr.dashboard.public import city_totals
from promkm_qr.extensions import db, limiter
from promkm_qr.public import bp
from promkm_qr.reference import get_setting
from promkm_qr.stalls import links

# Not fingerprinted, so not forever: a changed mark reaches browsers within a month.
FAVICON_AGE = 30 * 24 * 3600


@bp.route("/")
def index():
    """Send a signed-in person to their home, everyone else to sign in."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/favicon.ico")
def favicon():
    """The app's mark (the QR of the top bar) as the icon every browser and checker asks for."""
    response = send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=FAVICON_AGE
    )
    response.cache_control.public = True
    return response


@bp.route("/healthz")
def health():
    """Liveness and database reachability, for load balancers."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


def _signed_in() -> bool:
    """Whether the person is signed in (their scans are exempt from the address limit)."""
    return current_user.is_authenticated


@bp.route("/q/<token>")
# Limits guessing of link signatures from an address. A signed-in person is accountable
# (a refused scan is logged with their account) and could open /asn/lapor/<token> without
# the limit anyway; nor does an office sharing one address behind NAT use up its budget.
@limiter.limit(lambda: current_app.config["QR_LINK_LIMIT_PER_CLIENT"], exempt_when=_signed_in)
def stall_link(token: str):
    """A scanned poster: refuse a bad link with a friendly page, else go to the form."""
    # A signed-in ASN gets the form here: one round trip less on a slow line than a redirect.
    as_asn = current_user.is_authenticated and current_user.role == "asn"
    try:
        stall = links.resolve(token, with_kelurahan=as_asn)
    except links.LinkRefused as refused:
        return render_template("public/link_refused.html", reason=refused.reason), (
            410 if refused.reason in ("revoked", "suspended") else 404
        )
    if as_asn:
        return form_page(stall, token)
    # Anyone else goes where the form lives, which asks them to sign in as an ASN.
    return redirect(url_for("asn.report", token=token))


@bp.route("/statistik")
def stats():
    """City-wide totals by kelurahan and month, for anyone (no names, no NIP)."""
    return render_template("public/stats.html", stats=city_totals(locale=str(get_locale() or "id")))


@bp.app_context_processor
def _retention_periods() -> dict:
    """Pages that collect personal data state how long it is kept, as the settings say."""
    return {"retention_periods": retention.periods, "activation_days": activation.valid_days}


@bp.route("/privasi")
def privacy():
    """What personal data is collected, why, who sees it and for how long; the city edits it."""
    paragraphs = [p.strip() for p in get_setting("privacy_notice").split("\n\n") if p.strip()]
    return render_template(
        "public/privacy.html", paragraphs=paragraphs, periods=retention.periods()
    )
