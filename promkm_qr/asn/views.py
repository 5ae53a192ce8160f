"""ASN pages: start, scan, the report form, the receipt, edit/withdraw and Riwayat."""

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr.asn import bp, offline
from promkm_qr.asn.forms import PurchaseForm, ReportForm, StallCodeForm, WithdrawForm
from promkm_qr.core.dates import month_label, now_wib, to_wib
from promkm_qr.core.stall_code import parse_stall_code
from promkm_qr.extensions import db
from promkm_qr.models import PhotoUpload, Stall
from promkm_qr.reports import amend, history, submit, workflow
from promkm_qr.stalls import links
from promkm_qr.storage import StorageError

# The purchase fields' choices, for the plain markup of templates/asn/_purchase_fields.html.
bp.add_app_template_global(submit.GOODS_CATEGORIES, "goods_categories")
bp.add_app_template_global(submit.PAYMENT_METHODS, "payment_methods")


@bp.app_template_filter("jenis_barang")
def goods_label(slug: str) -> str:
    """A goods category in words."""
    return str(dict(submit.GOODS_CATEGORIES).get(slug, slug))


@bp.app_template_filter("cara_bayar")
def payment_label(method: str) -> str:
    """A payment method in words."""
    return str(dict(submit.PAYMENT_METHODS).get(method, method))


@bp.route("/")
def home():
    """Start page: the scan button and this month's progress."""
    return render_template("asn/home.html", summary=history.current_month(current_user.id))


@bp.route("/pindai", methods=["GET", "POST"])
def scan():
    """Scan a poster with the camera, or type the stall code printed under the QR."""
    form = StallCodeForm()
    if form.validate_on_submit():
        stall = _stall_by_code(form.code.data)
        if stall is not None:
            token = links.link_token(stall.code, stall.poster_version)
            return redirect(url_for("asn.report", token=token))
        form.code.errors = [
            *form.code.errors,
            _("Kode lapak tidak ditemukan atau lapak tidak aktif."),
        ]
    status = 400 if form.errors else 200
    return render_template("asn/scan.html", form=form), status


def _stall_by_code(text: str) -> Stall | None:
    """The active stall a typed code names, if any."""
    try:
        kelurahan, serial = parse_stall_code(text)
    except ValueError:
        return None
    code = f"{kelurahan}-{serial:05d}"
    return db.session.scalar(select(Stall).where(Stall.code == code, Stall.status == "active"))


@bp.route("/lapor/<token>", methods=["GET", "POST"])
def report(token: str):
    """The report form for the stall a signed link names."""
    try:
        # The form shows the kelurahan; a valid submission only needs the stall.
        stall = links.resolve(token, with_kelurahan=request.method == "GET")
    except links.LinkRefused as refused:
        status = 410 if refused.reason in ("revoked", "suspended") else 404
        if request.method == "POST" and offline.wants_json():
            return offline.link_refused(refused.reason, status)
        return render_template("public/link_refused.html", reason=refused.reason), status
    if request.method == "GET":
        return form_page(stall, token)
    form = ReportForm()
    if form.validate_on_submit():
        lat, lon = submit.check_location(form.lat.data, form.lon.data)
        # Read before the submission commits: afterwards it would reload the expired user.
        asn_id = current_user.id
        try:
            # A resend of a recorded form gets that report back (submit looks the key up).
            recorded = submit.submit(
                submit.Submission(
                    asn_id=asn_id,
                    stall_id=stall.id,
                    form_key=form.form_key.data,
                    photo=form.photo.checked,
                    lat=lat,
                    lon=lon,
                    **form.purchase_values(),
                )
            )
        except StorageError:
            if offline.wants_json():
                return offline.refused(503, _("Foto tidak dapat disimpan saat ini."), retry=True)
            form.photo.errors = [
                _("Foto tidak dapat disimpan saat ini. Laporan belum terkirim; coba lagi.")
            ]
            return _render_form(form, stall, token), 503
        if recorded.created and not offline.wants_json():
            flash(_("Laporan terkirim. Penjual akan diminta mengonfirmasi."), "success")
        return _to_receipt(recorded, asn_id)
    else:
        # A resend of a form that was already recorded shows its receipt, whatever changed.
        done = submit.find_by_key(form.form_key.data or "")
        if done is not None:
            return _to_receipt(done, current_user.id)
    if offline.wants_json():
        return offline.refused(400, _("Laporan belum terkirim."), errors=form.errors)
    return _render_form(form, stall, token), 400


def form_page(stall: Stall, token: str):
    """A fresh report form for a stall: a new one-time key, the purchase time set to now."""
    form = ReportForm()
    form.form_key.data = uuid.uuid4().hex
    form.purchased_at.data = now_wib().strftime("%Y-%m-%dT%H:%M")
    return _render_form(form, stall, token)


def _render_form(form: ReportForm, stall: Stall, token: str) -> str:
    """The form page; it always posts to the form's own address, wherever it was shown."""
    action = url_for("asn.report", token=token)
    return render_template("asn/report_form.html", form=form, stall=stall, action=action)


def _to_receipt(recorded: submit.Recorded, asn_id: int):
    """Redirect to a receipt (the queue gets its address), but only to the ASN's own (another's
    form key answers 404)."""
    if recorded.asn_id != asn_id:
        abort(404)
    if offline.wants_json():  # sent from the phone's queue
        return offline.sent(recorded.report_id, recorded.created)
    return redirect(url_for("asn.receipt", report_id=recorded.report_id))


def _own_or_404(report_id: int):
    """The signed-in ASN's report, or 404 so ids of other reports do not leak."""
    found = amend.own_report(report_id, current_user.id)
    if found is None:
        abort(404)
    return found


@bp.route("/laporan/<int:report_id>")
def receipt(report_id: int):
    """The receipt: reference, stall, amount, status, photo and history."""
    found = _own_or_404(report_id)
    upload = db.session.scalar(select(PhotoUpload).where(PhotoUpload.report_id == found.id))
    return render_template(
        "asn/receipt.html", report=found, upload=upload, withdraw_form=WithdrawForm()
    )


@bp.route("/laporan/<int:report_id>/ubah", methods=["GET", "POST"])
def edit(report_id: int):
    """Change a report while the merchant has not confirmed it yet."""
    found = _own_or_404(report_id)
    if found.state != "submitted":
        flash(_("Laporan ini tidak dapat diubah lagi."), "error")
        return redirect(url_for("asn.receipt", report_id=found.id))
    form = PurchaseForm(obj=found if request.method == "GET" else None)
    if request.method == "GET":
        form.amount.data = str(found.amount)
        form.purchased_at.data = to_wib(found.purchased_at).strftime("%Y-%m-%dT%H:%M")
    elif form.validate_on_submit():
        try:
            changes = amend.edit_report(found.id, current_user.id, form.purchase_values())
        except workflow.StateConflict:
            flash(_("Laporan sudah dikonfirmasi penjual sehingga tidak dapat diubah."), "error")
        else:
            flash(_("Perubahan tersimpan.") if changes else _("Tidak ada perubahan."), "success")
        return redirect(url_for("asn.receipt", report_id=found.id))
    status = 400 if request.method == "POST" else 200
    return render_template("asn/edit.html", form=form, report=found), status


@bp.route("/laporan/<int:report_id>/tarik", methods=["POST"])
def withdraw(report_id: int):
    """Withdraw a report while the merchant has not confirmed it yet."""
    found = _own_or_404(report_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        amend.withdraw_report(found.id, current_user.id, form.reason.data or None)
    except workflow.StateConflict:
        flash(_("Laporan ini tidak dapat ditarik lagi."), "error")
    else:
        flash(_("Laporan ditarik."), "success")
    return redirect(url_for("asn.receipt", report_id=found.id))


@bp.route("/riwayat", endpoint="history")
def history_page():
    """Riwayat: reports of a WIB month with totals and progress toward the quota."""
    months = history.months_with_reports(current_user.id)
    chosen = request.args.get("bulan", "")
    year, month = months[0]
    if chosen:
        try:
            year, month = (int(part) for part in chosen.split("-", 1))
            summary = history.month_summary(current_user.id, year, month)
        except ValueError:
            abort(404)
    else:
        summary = history.month_summary(current_user.id, year, month)
    locale = str(get_locale() or "id")
    return render_template(
        "asn/history.html",
        summary=summary,
        months=[(y, m, month_label(y, m, locale)) for y, m in months],
        title=month_label(year, month, locale),
    )
