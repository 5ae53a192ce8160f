"""Pages of dinas staff: stalls, posters, review queue, recaps and settings."""

from flask import Blueprint

from promkm_qr.auth.access import require_role

bp = Blueprint("dinas", __name__)
require_role(bp, "dinas")

from promkm_qr.dinas import views  # noqa: E402, F401
