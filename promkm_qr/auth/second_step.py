"""The second sign-in step of staff, and their enrollment in it.

After the password the session holds only a "half-signed-in" mark (account id and session
version); no view accepts it but these two, and only they turn it into a real session.
"""

import time

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from promkm_qr.accounts import second_factor
from promkm_qr.auth import bp, services
from promkm_qr.auth.forms import SecondFactorForm
from promkm_qr.extensions import db, limiter
from promkm_qr.models import User

HALF = "half_signed_in"
PENDING = "totp_pending"
# The mark lasts this long: the cookie itself may live for days (an ASN's session).
HALF_FOR = 15 * 60


def start(user: User, next_url: str | None):
    """After a right password: demand the second step if this account has or needs one."""
    if not (second_factor.enrolled(user) or second_factor.required(user)):
        return None
    session.pop(PENDING, None)
    session[HALF] = {
        "id": user.id,
        "v": user.session_version,
        "next": next_url or "",
        "at": int(time.time()),
    }
    if second_factor.enrolled(user):
        return redirect(url_for("auth.second_step"))
    return redirect(url_for("auth.enroll"))


def _half_user() -> User:
    """The account that passed the password step in this session, or 404 for anyone else."""
    mark = session.get(HALF)
    user = db.session.get(User, mark["id"]) if mark else None
    stale = not mark or time.time() - mark.get("at", 0) > HALF_FOR
    if user is None or stale or user.session_version != mark["v"] or not user.active:
        session.pop(HALF, None)
        abort(404)
    return user


def _finish(user: User):
    """Turn the half-signed-in mark into a real session."""
    target = services.safe_next(session.pop(HALF)["next"])
    session.pop(PENDING, None)
    login_user(user)
    return target or url_for(services.HOME_ENDPOINTS[user.role])


def _account_key() -> str:
    """Codes are limited per account like passwords, whatever client sends them."""
    mark = session.get(HALF) or {}
    return f"2fa:{mark.get('id')}"


def _client_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_CLIENT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


@bp.route("/dua-langkah", methods=["GET", "POST"])
@limiter.limit(_client_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def second_step():
    """Enter the code from the authenticator app (or a recovery code)."""
    user = _half_user()
    if not second_factor.enrolled(user):
        return redirect(url_for("auth.enroll"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        if second_factor.verify(user, form.code.data):
            return redirect(_finish(user))
        form.code.errors = [*form.code.errors, _("Kode salah atau sudah dipakai.")]
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/second_step.html", form=form), status


@bp.route("/dua-langkah/daftar", methods=["GET", "POST"])
@limiter.limit(_client_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def enroll():
    """Scan the QR into an authenticator app, confirm with a code, receive recovery codes."""
    user = _half_user()
    if second_factor.enrolled(user):
        return redirect(url_for("auth.second_step"))
    secret = session.get(PENDING) or second_factor.new_secret()
    session[PENDING] = secret  # in the signed cookie only until confirmed: it is the user's own
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        codes = second_factor.enroll(user, secret, form.code.data)
        if codes is not None:
            home = _finish(user)
            return render_template("auth/recovery_codes.html", codes=codes, home=home)
        form.code.errors = [*form.code.errors, _("Kode salah atau sudah dipakai.")]
        status = 401
    elif request.method == "POST":
        status = 400
    qr = second_factor.enrollment_qr(user, secret)
    return render_template("auth/enroll.html", form=form, qr=qr, secret=secret), status
