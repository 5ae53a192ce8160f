"""Photos behind sign-in: report evidence for those allowed to see it, stall photos for ASN,
and the whitelisted browser packages the scanner needs (served by the app, no CDN)."""

from pathlib import Path

from flask import abort, current_app, request, send_file
from flask_login import current_user
from sqlalchemy import select

from promkm_qr.asn import bp
from promkm_qr.config import ROOT
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Evidence, PurchaseReport, Stall, User
from promkm_qr.storage import get_storage

# Browser packages installed by `npm install`; nothing else under node_modules is served.
VENDOR_FILES = {"jsQR.js": "jsqr/dist/jsQR.js"}


def may_see_evidence(user: User, report: PurchaseReport) -> bool:
    """The reporting ASN, the stall's merchant and dinas staff whose scope covers the stall."""
    if user.role == "asn":
        return report.asn_id == user.id
    if user.role == "merchant":
        return report.stall.owner_id == user.id
    if user.role == "dinas":
        scope = scoped_kelurahan_ids(user)
        return scope is None or report.stall.kelurahan_id in scope
    return False


def _send_jpeg(key: str):
    """Stream a stored JPEG, revalidated with its ETag: the phone keeps its copy, and
    `register_security` makes every file sent to a signed-in person private."""
    path = get_storage().path(key)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=0, conditional=True)


@bp.route("/foto/<int:report_id>", endpoint="evidence_photo")
@bp.route("/foto/<int:report_id>/kecil", endpoint="evidence_thumb")
def evidence_photo(report_id: int):
    """A report's evidence photo or its thumbnail, or 404 for anyone else."""
    row = db.session.execute(
        select(PurchaseReport, Evidence)
        .join(Evidence, Evidence.id == PurchaseReport.evidence_id)
        .where(PurchaseReport.id == report_id)
    ).first()
    if row is None or not may_see_evidence(current_user, row[0]):
        abort(404)
    thumb = request.endpoint == "asn.evidence_thumb"
    return _send_jpeg(row[1].thumb_key if thumb else row[1].storage_key)


@bp.route("/lapak/<int:stall_id>/foto")
def stall_photo(stall_id: int):
    """The photo of an active stall, shown on the report form so the ASN knows where they are."""
    stall = db.session.get(Stall, stall_id)
    if stall is None or stall.status != "active" or not stall.photo_key:
        abort(404)
    return _send_jpeg(stall.photo_key)


@bp.route("/vendor/<name>")
def vendor(name: str):
    """A whitelisted browser package file from node_modules."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = Path(current_app.config.get("NODE_MODULES", ROOT / "node_modules")) / relative
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=86400)
