"""The review queue of flagged, disputed and unanswered reports, decided with a reason."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.auth.access import staff_roles
from promkm_qr.core.text import HiddenCharacter, whole_number
from promkm_qr.dinas import bp
from promkm_qr.dinas.queue import QueueFilter, queue_page
from promkm_qr.dinas.scope import apply_scope
from promkm_qr.extensions import db
from promkm_qr.models import Kelurahan, Opd
from promkm_qr.reference import get_setting
from promkm_qr.reports import review
from promkm_qr.reports.rules import FLAG_LABELS
from promkm_qr.reports.states import STATE_LABELS


@bp.route("/tinjauan", endpoint="review")
@staff_roles("reviewer")
def review_queue():
    """The queue, filtered by kelurahan, OPD, flag, state and month."""
    filters = QueueFilter.from_args(request.args)
    page = queue_page(filters, current_user)
    # Each report on the queue names the ASN who made it.
    audit.record_personal_list_view(
        current_user.id,
        "user",
        [report.asn_id for report in page["reports"]],
        request.path,
        {"name": "full"},
    )
    db.session.commit()
    kelurahan = db.session.scalars(
        apply_scope(select(Kelurahan), Kelurahan.id, current_user).order_by(Kelurahan.name)
    ).all()
    return render_template(
        "dinas/review.html",
        page=page,
        filters=filters,
        kelurahan=kelurahan,
        opds=db.session.scalars(select(Opd).order_by(Opd.name)).all(),
        flag_labels=FLAG_LABELS,
        state_labels=STATE_LABELS,
        decisions=review.DECISIONS,
        counted_states=get_setting("counted_states"),
    )


@bp.post("/tinjauan/putuskan")
@staff_roles("reviewer")
def review_decide():
    """Verify or reject the ticked reports, with the reason given."""
    ids = [n for n in map(whole_number, request.form.getlist("report_id")) if n is not None]
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").strip()
    back = request.form.get("back") or url_for("dinas.review")
    if not back.startswith("/dinas/"):  # only back to a page of this workspace
        back = url_for("dinas.review")
    if not ids or decision not in review.DECISIONS or not reason:
        flash(_("Centang laporan, pilih keputusan dan tulis alasannya."), "error")
        return redirect(back)
    try:
        result = review.decide(ids, current_user, decision, reason)
    except LookupError:
        abort(404)
    except HiddenCharacter as exc:
        flash(str(exc), "error")
        return redirect(back)
    db.session.commit()
    if result["done"]:
        flash(_("%(count)s laporan diputuskan.", count=len(result["done"])))
    if result["skipped"]:
        flash(
            _("%(count)s laporan sudah diputuskan sebelumnya.", count=len(result["skipped"])),
            "error",
        )
    return redirect(back)
