"""Wiring of extensions, blueprints, template helpers and security headers."""

from pathlib import Path

from flask import Flask, abort, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user, user_logged_in, user_logged_out
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from promkm_qr import jobs
from promkm_qr.accounts import sessions
from promkm_qr.core import dates, money
from promkm_qr.extensions import babel, csrf, db, limiter, login_manager, migrate
from promkm_qr.reports.states import state_label

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Let web, worker and beat share one SQLite file without 'database is locked'."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def select_locale() -> str:
    """Bahasa Indonesia unless the person chose English (stored in the session)."""
    if not has_request_context():
        return "id"  # workers and the CLI write in the default language (official documents)
    chosen = request.args.get("lang")
    if chosen in ("id", "en"):
        session["lang"] = chosen
    return session.get("lang", "id")


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    import promkm_qr.models  # noqa: F401  (registers every table with the metadata)
    from promkm_qr.auth.services import load_user

    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (teardowns run in
    # reverse order).
    app.teardown_appcontext(_release_session)
    migrate.init_app(
        app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    # Every sign-in (password, second step, activation, password change) begins a session
    # row; sign-out ends it. Connecting the same functions again (another app) is a no-op.
    user_logged_in.connect(_begin_session)
    user_logged_out.connect(_end_session)
    app.before_request(_load_signed_in_user)
    if app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"]
        )


def _begin_session(_sender, user, **_extra) -> None:
    sessions.begin(user)


def _end_session(_sender, **_extra) -> None:
    sessions.end_current()


def _load_signed_in_user() -> None:
    """Check a signed-in browser's session before the view runs, not lazily in the middle.

    The check may write last_seen_at on a connection of its own; on SQLite that would wait for
    a view's own uncommitted write. Static files never need the account.
    """
    if "_user_id" in session and request.endpoint != "static":
        current_user._get_current_object()


def _release_session(_error: BaseException | None = None) -> None:
    """End the request's session even when the database went away while it was open."""
    try:
        db.session.remove()
    except SQLAlchemyError:
        # The rollback that hands the connection back fails on a connection the server
        # closed; raised from a teardown it would turn the answer already made (a page or
        # the 503 page) into a 500. Drop the connection instead of returning it.
        db.session().invalidate()
        db.session.remove()


def register_blueprints(app: Flask) -> None:
    """One blueprint per concern; each checks its own role before every view."""
    from promkm_qr import api
    from promkm_qr.asn import bp as asn_bp
    from promkm_qr.auth import bp as auth_bp
    from promkm_qr.dinas import bp as dinas_bp
    from promkm_qr.documents import bp as documents_bp
    from promkm_qr.merchant import bp as merchant_bp
    from promkm_qr.notifications.views import bp as notifications_bp
    from promkm_qr.personal_data import bp as personal_data_bp
    from promkm_qr.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(asn_bp, url_prefix="/asn")
    app.register_blueprint(merchant_bp, url_prefix="/umkm")
    app.register_blueprint(dinas_bp, url_prefix="/dinas")
    app.register_blueprint(documents_bp)
    app.register_blueprint(personal_data_bp)
    app.register_blueprint(notifications_bp, url_prefix="/pemberitahuan")
    api.register(app)


def register_template_helpers(app: Flask) -> None:
    """Filters for Rupiah, WIB dates and report states; globals for the layout."""

    def locale() -> str:
        """The active locale (Flask-Babel caches the selector's answer per request)."""
        return str(get_locale() or "id")

    app.jinja_env.filters["rupiah"] = money.format_rupiah
    app.jinja_env.filters["status_laporan"] = state_label
    app.jinja_env.filters["status_proses"] = jobs.state_label
    app.jinja_env.filters["tanggal"] = lambda d: dates.format_date(d, locale=locale())
    app.jinja_env.filters["tanggal_panjang"] = lambda d: dates.format_date_long(d, locale=locale())
    app.jinja_env.filters["waktu"] = lambda d: dates.format_datetime(d, locale=locale())
    # "2026-10" as the page's language names it; documents keep their Indonesian names.
    app.jinja_env.filters["bulan"] = lambda period: dates.month_label(
        int(period[:4]), int(period[5:7]), locale=locale()
    )
    app.jinja_env.globals["current_locale"] = locale
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions


def register_security(app: Flask) -> None:
    """Refuse NUL bytes in input; security headers on every response."""

    @app.before_request
    def refuse_nul_bytes():
        # No legitimate input holds NUL, and PostgreSQL cannot store it: answer 400, not 500.
        values = [request.path, *request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400)

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        # Asks the session, not current_user: that would load the user from the database for
        # responses that never needed it (the poster link's redirect), or reload one a commit
        # expired. A session naming a user no longer valid errs on the side of no-store.
        if session.get("_user_id") is not None:
            if "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "private, no-store"
            elif not response.cache_control.public:
                # A file a view sent (send_file says no-cache, revalidated by its ETag): a
                # photo, a document, an export or a job's result is the viewer's alone, so
                # no shared cache may keep it. Only what a view made public may be shared.
                response.cache_control.private = True
        return response
