"""Friendly error pages in both languages."""

import logging

from flask import Flask, g, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from promkm_qr.extensions import db, login_manager

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    """Title and explanation per status, translated at request time."""
    return {
        400: (_("Permintaan tidak valid"), _("Periksa isian Anda lalu coba lagi.")),
        403: (_("Akses ditolak"), _("Akun Anda tidak berhak membuka halaman ini.")),
        404: (_("Tidak ditemukan"), _("Halaman atau data yang Anda cari tidak ada.")),
        405: (_("Metode tidak diizinkan"), _("Gunakan tombol pada halaman.")),
        413: (
            _("Berkas terlalu besar"),
            _("Berkas yang Anda kirim melebihi batas. Perkecil foto lalu kirim lagi."),
        ),
        429: (_("Terlalu banyak percobaan"), _("Tunggu sebentar lalu coba lagi.")),
        500: (_("Terjadi kesalahan"), _("Kesalahan di server. Coba lagi beberapa saat.")),
        503: (
            _("Layanan sedang sibuk"),
            _("Basis data tidak dapat dihubungi. Data Anda belum tersimpan; coba lagi."),
        ),
    }


def render_error(status: int, detail: str | None = None):
    """The error page for a status, with an optional specific explanation."""
    title, text = _messages().get(status, _messages()[500])
    return render_template(
        "errors/error.html", status=status, title=title, text=detail or text
    ), status


def register(app: Flask) -> None:
    """Install the handlers."""
    from promkm_qr.api.problems import from_exception, is_api_request, problem

    def page_or_problem(exc, status: int):
        """The API answers problem documents; every other path shows the error page."""
        if is_api_request():
            return from_exception(exc) if isinstance(exc, HTTPException) else problem(status)
        return render_error(status)

    for status in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(status, lambda e, s=status: page_or_problem(e, s))

    @app.errorhandler(HTTPException)
    def other_http_error(exc):
        # 401, 409, 422 and the rest have no page of their own: Werkzeug's answer stays.
        return from_exception(exc) if is_api_request() else exc

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(
            400, _("Formulir kedaluwarsa atau tidak sah (token CSRF). Muat ulang halaman.")
        )

    @app.errorhandler(OperationalError)
    def database_down(exc):
        log.error("database unavailable: %s", exc)
        db.session.rollback()
        # The page must not touch the database: loading the signed-in user (or refreshing
        # it after the rollback) would fail again and turn the clear 503 into a 500.
        g._login_user = login_manager.anonymous_user()
        return problem(503) if is_api_request() else render_error(503)


def init_sentry(app: Flask) -> bool:
    """Report errors of web and workers to Sentry when SENTRY_DSN is set; else send nothing.

    No personal data leaves: no request bodies (NIK, phone numbers, photos), cookies,
    addresses or user names; the SDK's scrubber also drops values of secret-looking keys.
    """
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["PROMKM_ENV"],
        integrations=[FlaskIntegration(), CeleryIntegration()],
        # No user names or addresses, no request bodies (NIK, phone numbers, photos).
        data_collection={"user_info": False, "http_bodies": []},
        max_request_body_size="never",
        include_local_variables=False,  # a frame's locals may hold a NIK or a password
        traces_sample_rate=0,
    )
    return True
