"""Monthly documents: plain data per kind, batch generation, downloads and verification."""

from flask import Blueprint

bp = Blueprint("documents", __name__)

from promkm_qr.documents import views  # noqa: E402, F401
