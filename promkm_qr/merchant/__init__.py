"""Pages of the merchant (pelaku UMKM): sales against their stalls, confirm or dispute."""

from flask import Blueprint

from promkm_qr.auth.access import require_role

bp = Blueprint("merchant", __name__)
require_role(bp, "merchant")

from promkm_qr.merchant import registration, views  # noqa: E402, F401
