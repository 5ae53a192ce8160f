"""`read:compliance`: each ASN's month against its quota, and OPD totals (what payroll reads)."""

from flask import Response, jsonify
from flask.views import MethodView
from werkzeug.exceptions import Conflict, Forbidden, UnprocessableEntity

from promkm_qr.api import compliance_data
from promkm_qr.api.access import caller, record_personal_read, requires, resource
from promkm_qr.api.paging import decode_cursor, encode_cursor
from promkm_qr.api.schemas import (
    ComplianceArgs,
    CompliancePage,
    OpdTotalsArgs,
    OpdTotalsPage,
    TppFileArgs,
)
from promkm_qr.api.tpp import MonthAhead, MonthOpen, tpp_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_ANSWER = {
    "200": {
        "description": "The TPP file; its last line holds the totals and a checksum.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

bp = resource("api_compliance", "/api/v1/compliance", "ASN quota compliance per month.")


def _opd_in_scope(requested: int | None) -> int | None:
    """The OPD to read: the token's own when it has one (another OPD is refused)."""
    own = caller().opd_id
    if own is None:
        return requested
    if requested is not None and requested != own:
        error = Forbidden()
        error.api_detail = "This token reads only its own OPD."
        raise error
    return own


@bp.route("/asn")
class AsnCompliance(MethodView):
    """Per ASN."""

    @requires(bp, "read:compliance")
    @bp.arguments(ComplianceArgs, location="query")
    @bp.response(200, CompliancePage)
    def get(self, args):
        """Quota, counted total, shortfall and counts per state of each rostered ASN.

        Ordered by user id; filter by `opd_id` or `nip`. A token limited to an OPD sees only
        that OPD's ASN. `month_closed` tells whether the figures can still change.
        """
        after = decode_cursor(args.get("cursor"), (int,))
        items, last = compliance_data.asn_page(
            args["month"],
            opd_id=_opd_in_scope(args.get("opd_id")),
            nip=args.get("nip"),
            after=after[0] if after else None,
            limit=args["limit"],
        )
        record_personal_read("compliance.asn", [item["user_id"] for item in items])
        # Sent as built: the rows are made field for field as CompliancePage describes
        # (compliance_data._asn_row; a test loads and dumps a page with the schema), and
        # dumping them again through marshmallow cost a fifth of the app's time per page.
        return jsonify(
            items=items,
            next_cursor=None if last is None else encode_cursor(last),
            month_closed=compliance_data.month_closed_text(args["month"]),
        )


@bp.route("/opd")
class OpdCompliance(MethodView):
    """Per OPD."""

    @requires(bp, "read:compliance")
    @bp.arguments(OpdTotalsArgs, location="query")
    @bp.response(200, OpdTotalsPage)
    def get(self, args):
        """Per OPD: rostered ASN, how many met the quota, quota, counted and shortfall sums."""
        return compliance_data.opd_totals(args["month"], _opd_in_scope(args.get("opd_id")))


@bp.route("/tpp-file")
class TppFile(MethodView):
    """The payroll file."""

    @requires(bp, "read:compliance")
    @bp.arguments(TppFileArgs, location="query")
    @bp.alt_response(409, response="CONFLICT")
    @bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @bp.doc(responses=FILE_ANSWER)
    def get(self, args):
        """The TPP file of a closed month (CSV or XLSX), the same file staff download.

        NIP is text; the last line is `CHECKSUM`, the number of ASN, the SHA-256 of the data
        lines and the column sums (docs/api.md). 409 while the month is still open, 422 for
        a month that has not begun.
        """
        opd_id = _opd_in_scope(args.get("opd_id"))
        try:
            data, ids = tpp_file(args["month"], opd_id, args["format"])
        except MonthAhead:
            error = UnprocessableEntity()
            error.api_detail = "The month is in the future; no report can be in it yet."
            raise error from None
        except MonthOpen:
            error = Conflict()
            error.api_detail = "The month is not closed yet; its figures can still change."
            raise error from None
        record_personal_read("compliance.tpp_file", ids)
        name = f"tpp-{args['month']}-{opd_id or 'kota'}.{args['format']}"
        return Response(
            data,
            mimetype="text/csv" if args["format"] == "csv" else XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
