"""Pages anyone may open: the front door and the public aggregates."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from promkm_qr.public import views, webapp  # noqa: E402, F401
