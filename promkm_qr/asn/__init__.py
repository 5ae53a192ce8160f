"""Pages of the ASN: report a purchase at a stall, history and monthly progress."""

from flask import Blueprint

from promkm_qr.auth.access import require_role

bp = Blueprint("asn", __name__)
# Evidence photos are also shown to the stall's merchant and to staff; that view checks who.
require_role(bp, "asn", exempt=("evidence_photo", "evidence_thumb"))

from promkm_qr.asn import offline, photos, views  # noqa: E402, F401
