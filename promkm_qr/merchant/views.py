"""Merchant views: sales against their own stalls, confirm or dispute, the month's CSV."""

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from promkm_qr.core.dates import month_label, now_wib
from promkm_qr.extensions import db
from promkm_qr.merchant import bp
from promkm_qr.merchant.forms import ConfirmForm, DisputeForm
from promkm_qr.merchant.sales import month_csv, month_reports, own_stalls, stall_totals
from promkm_qr.reference import get_setting
from promkm_qr.reports import review
from promkm_qr.reports.states import STATE_LABELS
from promkm_qr.storage import get_storage


def _month() -> tuple[int, int]:
    """The month asked for as ?bulan=YYYY-MM, this WIB month by default."""
    try:
        year, month = (int(p) for p in request.args.get("bulan", "").split("-"))
        if 1 <= month <= 12 and 2020 <= year <= 2100:
            return year, month
    except ValueError:
        pass
    today = now_wib()
    return today.year, today.month


@bp.route("/")
def home():
    """The merchant's stalls with today's and the month's totals and the month's reports."""
    year, month = _month()
    stalls = own_stalls(current_user.id)
    reports = {}
    for report, asn_name, opd_name in month_reports(current_user.id, year, month):
        reports.setdefault(report.stall_id, []).append((report, asn_name, opd_name))
    return render_template(
        "merchant/home.html",
        stalls=stalls,
        totals=stall_totals([s.id for s in stalls], year, month),
        reports=reports,
        month=f"{year:04d}-{month:02d}",
        previous_month=f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}",
        month_label=month_label(year, month, str(get_locale() or "id")),
        counted_states=get_setting("counted_states"),
        confirm_form=ConfirmForm(),
        dispute_form=DisputeForm(),
        dispute_reasons=review.DISPUTE_REASONS,
        state_labels=STATE_LABELS,
    )


def _decide(decision, done_message: str):
    """Run a merchant decision (404 for a report that is not theirs), commit, say what changed."""
    try:
        result = decision()
    except (LookupError, review.NotAllowed):
        abort(404)
    db.session.commit()
    if result["done"]:
        flash(done_message % {"count": len(result["done"])})
    if result["skipped"]:
        flash(
            _("%(count)s laporan sudah diputuskan sebelumnya.", count=len(result["skipped"])),
            "error",
        )
    return redirect(url_for("merchant.home"))


@bp.post("/laporan/konfirmasi")
def confirm():
    """Confirm one or several reports."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if not form.report_id.data:
        flash(_("Pilih laporan yang akan dikonfirmasi."), "error")
        return redirect(url_for("merchant.home"))
    return _decide(
        lambda: review.confirm(form.report_id.data, current_user.id),
        _("%(count)s laporan dikonfirmasi."),
    )


@bp.post("/laporan/<int:report_id>/sanggah")
def dispute(report_id: int):
    """Dispute one report with a reason."""
    form = DisputeForm()
    try:
        review.merchant_reports([report_id], current_user.id)
    except LookupError:
        abort(404)
    if not form.validate_on_submit():
        flash(_("Pilih alasan sanggahan."), "error")
        return redirect(url_for("merchant.home", _anchor=f"laporan-{report_id}"))
    return _decide(
        lambda: review.dispute(report_id, current_user.id, form.reason.data, form.note.data or ""),
        _("%(count)s laporan disanggah."),
    )


@bp.route("/laporan/<int:report_id>/foto")
def photo(report_id: int):
    """The thumbnail of a report's photo, for the merchant of that stall only."""
    try:
        (report,) = review.merchant_reports([report_id], current_user.id)
    except LookupError:
        abort(404)
    # A photo past its retention period is gone; its row stays with the report.
    if report.evidence is None or report.evidence.purged_at is not None:
        abort(404)
    key = (
        report.evidence.storage_key
        if request.args.get("ukuran") == "penuh"
        else report.evidence.thumb_key
    )
    return send_file(get_storage().path(key), mimetype="image/jpeg")


@bp.route("/laporan.csv")
def reports_csv():
    """The month's reports at the merchant's stalls as CSV."""
    year, month = _month()
    return Response(
        month_csv(current_user.id, year, month),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=laporan-{year:04d}-{month:02d}.csv"},
    )
