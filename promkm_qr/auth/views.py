"""Sign-in pages."""

import contextlib

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from promkm_qr.accounts import activation
from promkm_qr.accounts.passwords import WeakPassword
from promkm_qr.auth import bp, second_step, services
from promkm_qr.auth.forms import ActivateForm, LoginForm, MerchantActivateForm, PasswordForm
from promkm_qr.extensions import limiter


def home_url(user) -> str:
    """Where each role lands after signing in."""
    return url_for(services.HOME_ENDPOINTS[user.role])


def _account_key() -> str:
    """Rate-limit key for one account, whatever client tries it (sign-in and activation)."""
    role = request.form.get("role") or ("merchant" if request.endpoint.endswith("umkm") else "asn")
    typed = request.form.get("identifier", "")[:40]
    # One account, however its NIP or phone is written; malformed ones are refused unchecked.
    with contextlib.suppress(services.LoginError):
        typed = services.normalize_identifier(role, typed)
    return "acct:" + role + ":" + typed


def _client_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_CLIENT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


@bp.route("/masuk", methods=["GET", "POST"])
@limiter.limit(_client_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def login():
    """Sign in with NIP (ASN), phone (merchant) or username (staff)."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if request.args.get("peran") in ("asn", "merchant", "dinas"):
            form.role.data = request.args["peran"]
        if current_user.is_authenticated:
            return redirect(services.safe_next(form.next.data) or home_url(current_user))
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.role.data, form.identifier.data, form.password.data)
        except services.LoginError as exc:
            form.identifier.errors = [*form.identifier.errors, exc.message]
            status = exc.status
        else:
            halfway = second_step.start(user, form.next.data)
            if halfway is not None:
                return halfway
            login_user(user)
            return redirect(services.safe_next(form.next.data) or home_url(user))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/aktivasi", methods=["GET", "POST"])
@limiter.limit(_client_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def activate():
    """An ASN sets a password with the activation code from the OPD or dinas."""
    return _activate("asn", ActivateForm())


@bp.route("/aktivasi/umkm", methods=["GET", "POST"])
@limiter.limit(_client_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def activate_umkm():
    """A merchant sets a password with the activation code from dinas."""
    return _activate("merchant", MerchantActivateForm())


def _activate(role: str, form: ActivateForm):
    """The activation form of either role: a valid code sets the password and signs in."""
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        try:
            user = activation.activate(
                role, form.identifier.data, form.code.data, form.password.data
            )
        except services.LoginError as exc:
            form.code.errors = [*form.code.errors, exc.message]
            status = exc.status
        except WeakPassword as exc:
            form.password.errors = [*form.password.errors, str(exc)]
            status = 400
        else:
            login_user(user)
            flash(_("Kata sandi tersimpan. Selamat datang!"), "success")
            return redirect(services.safe_next(form.next.data) or home_url(user))
    elif request.method == "POST":
        status = 400
    return render_template("auth/activate.html", form=form, role=role), status


@bp.route("/sandi", methods=["GET", "POST"])
@login_required
@limiter.limit(_client_limit, methods=["POST"])
def change_password():
    """Change the password; every other session of the account ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not services.check_password(current_user, form.current.data):
            form.current.errors = [*form.current.errors, _("Kata sandi sekarang salah.")]
            return render_template("auth/password.html", form=form), 400
        user = current_user._get_current_object()
        try:
            services.change_own_password(user, form.password.data)
        except WeakPassword as exc:
            form.password.errors = [*form.password.errors, str(exc)]
            return render_template("auth/password.html", form=form), 400
        login_user(user)  # this session continues with the new session version
        flash(_("Kata sandi diganti. Sesi lain telah diakhiri."), "success")
        return redirect(home_url(current_user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/keluar", methods=["POST"])
def logout():
    """Sign out (a POST, so a link on another site cannot sign anyone out)."""
    logout_user()
    return redirect(url_for("auth.login"))
