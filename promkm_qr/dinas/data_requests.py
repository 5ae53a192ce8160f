"""A person's data archive made by an admin on that person's written request (UU 27/2022).

Only admins may: the archive holds a person's full NIK, NIP, phone number, photos and
positions, more than any other staff page shows. The reason typed (the request letter's
number, say) goes with the request into the audit trail; the file is made by a worker
and only the admin who asked can download it, from the job's page, for a limited time.
"""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from promkm_qr.auth.access import staff_roles
from promkm_qr.dinas import bp
from promkm_qr.dinas.stalls import stall_in_scope
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.models import User
from promkm_qr.personal_data import services


def _start(person: User | None, back: str):
    """Start the archive with the typed reason; to the job page, or back with the problem."""
    if person is None or person.role not in services.PEOPLE:
        flash(_("Akun ini tidak dapat dibuatkan berkas data."), "error")
        return redirect(back)
    if not Form().validate_on_submit():
        flash(_("Formulir kedaluwarsa. Silakan coba lagi."), "error")
        return redirect(back)
    try:
        job = services.start(person, current_user.id, request.form.get("reason", ""))
    except services.ExportRefused as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(_("Berkas data sedang dibuat. Unduh dari halaman ini setelah selesai."))
    return redirect(url_for("dinas.job", job_id=job.id))


@bp.post("/asn/<int:asn_id>/data")
@staff_roles()
def asn_data_request(asn_id: int):
    """Make an ASN's data archive on their request (admin only)."""
    person = db.session.get(User, asn_id)
    if person is None or person.role != "asn":
        abort(404)
    return _start(person, url_for("dinas.asn_access", asn_id=asn_id))


@bp.post("/lapak/<int:stall_id>/data-pemilik")
@staff_roles()
def stall_owner_data_request(stall_id: int):
    """Make a stall owner's data archive on their request (admin only)."""
    stall = stall_in_scope(stall_id)
    return _start(stall.owner, url_for("dinas.stall_owner_access", stall_id=stall.id))
