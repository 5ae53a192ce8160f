"""`read:reports`: purchase reports with their history, for incremental sync (no photos)."""

from datetime import datetime

from flask.views import MethodView
from sqlalchemy import select, tuple_

from promkm_qr.api.access import caller, record_personal_read, requires, resource
from promkm_qr.api.paging import (
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    iso_wib,
    month_filters,
)
from promkm_qr.api.schemas import ReportArgs, ReportPage
from promkm_qr.core.dates import naive_utc
from promkm_qr.dashboard.queries import run
from promkm_qr.models import PurchaseReport, ReportTransition, Stall, User

R = PurchaseReport
bp = resource("api_reports", "/api/v1/reports", "Purchase reports and their history.")


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    """The (updated_at, id) a cursor continues after."""
    key = decode_cursor(cursor, (str, int))
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key[0]), key[1]
    except ValueError:
        raise invalid_cursor() from None


def report_page(args: dict, opd_id: int | None) -> tuple[list[dict], tuple | None]:
    """Reports by (updated_at, id): up to `limit` after the cursor, and the key to continue."""
    query = (
        select(R.id, R.reference, R.state, R.asn_id, User.nip, R.opd_id, R.stall_id,
               Stall.code.label("stall_code"), R.amount, R.goods_category, R.payment_method,
               R.purchased_at, R.created_at, R.updated_at)
        .join(User, User.id == R.asn_id)
        .join(Stall, Stall.id == R.stall_id)
        .order_by(R.updated_at, R.id)
        .limit(args["limit"] + 1)
    )  # fmt: skip
    if opd_id is not None:
        query = query.where(R.opd_id == opd_id)
    if args.get("changed_since"):
        query = query.where(R.updated_at >= naive_utc(args["changed_since"]))
    if args.get("month"):
        lower, upper = month_filters(args["month"]).utc_bounds
        query = query.where(R.purchased_at >= lower, R.purchased_at < upper)
    if args.get("state"):
        query = query.where(R.state == args["state"])
    after = _after(args.get("cursor"))
    if after is not None:
        query = query.where(tuple_(R.updated_at, R.id) > tuple_(*after))
    rows = run(query).all()
    page = rows[: args["limit"]]
    history = _history([r.id for r in page])
    items = [_report(r, history.get(r.id, [])) for r in page]
    more = len(rows) > args["limit"]
    return items, ((page[-1].updated_at.isoformat(), page[-1].id) if more else None)


def _history(report_ids: list[int]) -> dict[int, list[dict]]:
    """The transitions of the given reports, oldest first."""
    if not report_ids:
        return {}
    T = ReportTransition
    query = (
        select(T.report_id, T.from_state, T.to_state, T.at)
        .where(T.report_id.in_(report_ids))
        .order_by(T.report_id, T.at, T.id)
    )
    history: dict[int, list[dict]] = {}
    for r in run(query):
        history.setdefault(r.report_id, []).append(
            {"from_state": r.from_state, "to_state": r.to_state, "at": iso_wib(r.at)}
        )
    return history


def _report(r, history: list[dict]) -> dict:
    """A report as the API answers it."""
    return {
        "id": r.id,
        "reference": r.reference,
        "state": r.state,
        "asn_user_id": r.asn_id,
        "nip": r.nip,
        "opd_id": r.opd_id,
        "stall_id": r.stall_id,
        "stall_code": r.stall_code,
        "amount": r.amount,
        "goods_category": r.goods_category,
        "payment_method": r.payment_method,
        "purchased_at": iso_wib(r.purchased_at),
        "created_at": iso_wib(r.created_at),
        "updated_at": iso_wib(r.updated_at),
        "history": history,
    }


@bp.route("")
class Reports(MethodView):
    """Reports."""

    @requires(bp, "read:reports")
    @bp.arguments(ReportArgs, location="query")
    @bp.response(200, ReportPage)
    def get(self, args):
        """Reports in order of their last change, for incremental sync.

        Keep the `updated_at` of the last report read and pass it as `changed_since` next
        time (reports changed at that same instant come again; ids tell them apart). A token
        limited to an OPD sees only that OPD's reports.
        """
        items, last = report_page(args, caller().opd_id)
        record_personal_read("reports", [item["asn_user_id"] for item in items])
        return {"items": items, "next_cursor": None if last is None else encode_cursor(*last)}
