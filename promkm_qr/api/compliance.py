"""`read:compliance`: each ASN's month against its quota, and OPD totals (what payroll reads)."""

from flask.views import MethodView
from werkzeug.exceptions import Forbidden

from promkm_qr.api import compliance_data
from promkm_qr.api.access import caller, record_personal_read, requires, resource
from promkm_qr.api.paging import decode_cursor, encode_cursor
from promkm_qr.api.schemas import ComplianceArgs, CompliancePage, OpdTotalsArgs, OpdTotalsPage

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
        return {
            "items": items,
            "next_cursor": None if last is None else encode_cursor(last),
            "month_closed": compliance_data.month_closed_text(args["month"]),
        }


@bp.route("/opd")
class OpdCompliance(MethodView):
    """Per OPD."""

    @requires(bp, "read:compliance")
    @bp.arguments(OpdTotalsArgs, location="query")
    @bp.response(200, OpdTotalsPage)
    def get(self, args):
        """Per OPD: rostered ASN, how many met the quota, quota, counted and shortfall sums."""
        return compliance_data.opd_totals(args["month"], _opd_in_scope(args.get("opd_id")))
