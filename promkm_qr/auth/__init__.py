"""Sign-in, sign-out and password setting for all three roles."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from promkm_qr.auth import account, own_sessions, views  # noqa: E402, F401
