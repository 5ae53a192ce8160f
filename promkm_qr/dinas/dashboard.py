"""Dashboard and exports of the dinas workspace."""

from flask import (
    Response,
    abort,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.core.text import whole_number
from promkm_qr.dashboard import charts, compliance, exports, queries
from promkm_qr.dashboard.filters import build_filters, parse_date
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan, Kelurahan

EXPORTS = {
    "laporan": exports.reports_export,
    "lapak": exports.stalls_export,
    "asn": exports.asn_export,
    "tinjauan": exports.review_export,
}

# The exports that list ASN by NIP and name: each download is written to the audit trail.
PERSONAL_EXPORTS = {
    "laporan": {"nip": "full", "name": "full"},
    "asn": {"nip": "full", "name": "full"},
}


def int_arg(name: str) -> int | None:
    """A positive integer query argument, or None."""
    value = request.args.get(name, "")
    return whole_number(value)


def _filters():
    """The dashboard/export filters of this request, inside the staff member's scope."""
    return build_filters(
        scoped_kelurahan_ids(current_user),
        parse_date(request.args.get("mulai")),
        parse_date(request.args.get("sampai")),
        int_arg("kecamatan"),
        int_arg("kelurahan"),
    )


def _area_options() -> list[Kelurahan]:
    """Kelurahan the staff member may pick, grouped by kecamatan in the template."""
    query = select(Kelurahan).join(Kecamatan).order_by(Kecamatan.code, Kelurahan.code)
    allowed = scoped_kelurahan_ids(current_user)
    if allowed is not None:
        query = query.where(Kelurahan.id.in_(allowed))
    return list(db.session.scalars(query))


@bp.route("/dasbor")
def dashboard():
    """Totals, charts and lists for a period and area (default: this month, whole scope)."""
    f = _filters()
    by_day = queries.by_day(f)
    by_kelurahan = queries.by_kelurahan(f)
    by_kecamatan = queries.by_kecamatan(by_kelurahan)
    quota = None if f.scope_limited else compliance.quota_panel(f)
    top, idle = queries.stall_panels(f)
    return render_template(
        "dinas/dashboard.html",
        f=f,
        args=request.args,
        areas=_area_options(),
        counted=queries.counted_states(),
        totals=queries.totals(f),
        by_day=by_day,
        day_chart=charts.column_chart(by_day, _("Nominal per hari")),
        by_kecamatan=by_kecamatan,
        kecamatan_chart=charts.bar_chart(by_kecamatan, _("Nominal per kecamatan")),
        by_kelurahan=by_kelurahan,
        by_opd=queries.by_opd(f),
        opd_compliance=None if quota is None else quota["by_opd"],
        by_category=queries.by_category(f),
        top=top,
        idle=idle,
        quota=quota,
        review=queries.review_reasons(f),
    )


@bp.route("/ekspor/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """Download an export with the dashboard's current filters, streamed."""
    if kind not in EXPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    f = _filters()
    if kind == "asn" and f.scope_limited:
        abort(403)  # the roster has no region, so it is not in a scoped view
    if kind == "tinjauan" and current_user.staff_role not in ("admin", "reviewer"):
        abort(403)
    made = (
        exports.asn_export(f, request.args.get("kurang") == "1")
        if kind == "asn"
        else EXPORTS[kind](f)
    )
    name = f"{kind}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.{fmt}"
    if kind in PERSONAL_EXPORTS:
        audit.record(
            "personal_data.exported",
            "export",
            kind,
            actor_id=current_user.id,
            data={"page": request.path, "shown": PERSONAL_EXPORTS[kind]},
        )
        db.session.commit()
    if fmt == "xlsx":
        return send_file(exports.xlsx_file(made), as_attachment=True, download_name=name)
    return Response(
        stream_with_context(exports.csv_chunks(made)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
