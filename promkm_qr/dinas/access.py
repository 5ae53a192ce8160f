"""Access of an ASN or a merchant: staff reset it and hand the person a new activation code."""

from flask import abort, make_response, render_template, request
from flask_login import current_user

from promkm_qr import audit
from promkm_qr.auth.access import staff_roles
from promkm_qr.auth.activation import reset_access
from promkm_qr.core.nik import mask_phone
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.dinas.stalls import _stall_in_scope
from promkm_qr.extensions import db
from promkm_qr.models import User


@bp.route("/asn/<int:asn_id>/akses", methods=["GET", "POST"])
@staff_roles("operator")
def asn_access(asn_id: int):
    """Reset an ASN's access; like the roster, for city-wide staff only."""
    if scoped_kelurahan_ids(current_user) is not None:
        abort(403)
    person = db.session.get(User, asn_id)
    if person is None or person.role != "asn":
        abort(404)
    return _access_page(person, person.nip, back=("dinas.roster", {}))


@bp.route("/lapak/<int:stall_id>/akses", methods=["GET", "POST"])
@staff_roles("operator")
def stall_owner_access(stall_id: int):
    """Reset the access of a stall's owner (staff whose scope covers the stall)."""
    stall = _stall_in_scope(stall_id)
    person = stall.owner
    if person is None or person.role != "merchant":
        abort(404)
    audit.record_personal_view(
        current_user.id, "user", person.id, request.path, {"phone": "masked"}
    )
    db.session.commit()
    shown = mask_phone(person.phone) if person.phone else "-"
    return _access_page(person, shown, back=("dinas.stall_detail", {"stall_id": stall.id}))


def _access_page(person: User, login_key: str, back: tuple[str, dict]):
    """GET: the account's state and what a reset does; POST: reset, show the code once."""
    code = None
    if request.method == "POST":
        code = reset_access(person, current_user.id)
        db.session.commit()
    response = make_response(
        render_template(
            "dinas/access.html", person=person, login_key=login_key, code=code, back=back
        )
    )
    # The code is shown on this page only: never kept by a cache or the browser's history.
    response.headers["Cache-Control"] = "no-store"
    return response
