"""Pages of the ASN: report a purchase at a stall, history and monthly progress."""

from flask import Blueprint

from promkm_qr.auth.access import require_role

bp = Blueprint("asn", __name__)
require_role(bp, "asn")

from promkm_qr.asn import views  # noqa: E402, F401
