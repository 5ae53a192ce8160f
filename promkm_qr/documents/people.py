"""Plain data for the documents of one person: the ASN receipt and the merchant recap."""

from collections import defaultdict

from sqlalchemy import func, select

from promkm_qr.core.dates import format_date_numeric
from promkm_qr.core.nik import mask_phone
from promkm_qr.documents.data import (
    counted_states,
    counted_total,
    in_month,
    state_totals,
)
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Kelurahan, Opd, PurchaseReport, Stall, User
from promkm_qr.reports.quota import quota_amount, quota_rules

POSITIONS = {
    "pelaksana": "Pelaksana",
    "eselon-iv": "Eselon IV",
    "eselon-iii": "Eselon III",
    "eselon-ii": "Eselon II",
    "kepala-opd": "Kepala OPD",
}

# What _report_row prints of each report, and its state, which heads the report's group.
REPORT_COLUMNS = (
    PurchaseReport.purchased_at,
    PurchaseReport.amount,
    PurchaseReport.state,
    PurchaseReport.goods_category,
    PurchaseReport.description,
)


def _report_row(report, **extra) -> dict:
    """The printed columns every report table shares."""
    return {
        # Numeric in the list: a month name on every row took a second line in its column.
        "date": format_date_numeric(report.purchased_at),
        "goods": report.description or report.goods_category,
        "amount": report.amount,
        **extra,
    }


def _by_state(reports: list, counted: list[str], row) -> tuple[list[dict], dict]:
    """A person's reports grouped by state, in workflow order, and the counted total.

    Each group is a state's total with the rows (``row(report)``) in it. The list prints as
    sections headed by their state's total instead of a status column plus a separate table
    of totals: a text box fewer on every row and no second table (bench/documents.py). Only
    the states of the person's own reports appear; the statement under the list names the
    states that count.
    """
    totals = state_totals((r.state, 1, r.amount) for r in reports)
    rows = defaultdict(list)
    for report in reports:
        rows[report.state].append(row(report))
    groups = [{**t, "rows": rows[t["state"]]} for t in totals if t["count"]]
    return groups, counted_total(totals, counted)


def asn_receipts(period: str, asn_ids: list[int]) -> dict[int, dict]:
    """Receipt data per ASN: identity, each report, totals by state, quota and whether met."""
    counted, rules = counted_states(), quota_rules()
    people = db.session.execute(
        select(
            User.id,
            User.name,
            User.nip,
            AsnProfile.position_class,
            AsnProfile.tpp_amount,
            Opd.name.label("opd"),
        )
        .join(AsnProfile, AsnProfile.user_id == User.id)
        .outerjoin(Opd, Opd.id == AsnProfile.opd_id)
        .where(User.id.in_(asn_ids))
    ).all()
    reports = defaultdict(list)
    for report in db.session.execute(
        select(
            PurchaseReport.asn_id,
            *REPORT_COLUMNS,
            Stall.name.label("stall"),
            Stall.code.label("code"),
            Kelurahan.name.label("kelurahan"),
        )
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .join(Kelurahan, Kelurahan.id == Stall.kelurahan_id)
        .where(in_month(period), PurchaseReport.asn_id.in_(asn_ids))
        .order_by(PurchaseReport.purchased_at, PurchaseReport.id)
    ):
        reports[report.asn_id].append(report)
    contexts = {}
    for person in people:
        mine = reports.get(person.id, [])
        groups, counted_sum = _by_state(
            mine,
            counted,
            lambda r: _report_row(r, stall=r.stall, code=r.code, kelurahan=r.kelurahan),
        )
        quota = quota_amount(rules.get(person.position_class), person.tpp_amount)
        contexts[person.id] = {
            "asn": {
                "name": person.name,
                "nip": person.nip or "",
                "opd": person.opd or "-",
                "position": POSITIONS.get(person.position_class, person.position_class),
            },
            "groups": groups,
            "counted": counted_sum,
            "quota": quota,
            "quota_met": counted_sum["amount"] >= quota,
            "shortfall": max(quota - counted_sum["amount"], 0),
        }
    return contexts


def merchant_recaps(period: str, merchant_ids: list[int]) -> dict[int, dict]:
    """Recap data per merchant: stalls, each sale, totals by state and by day."""
    counted = counted_states()
    merchants = db.session.execute(
        select(User.id, User.name, User.phone).where(User.id.in_(merchant_ids))
    ).all()
    stalls = defaultdict(list)
    for stall in db.session.execute(
        select(Stall.owner_id, Stall.code, Stall.name, Kelurahan.name.label("kelurahan"))
        .join(Kelurahan, Kelurahan.id == Stall.kelurahan_id)
        .where(Stall.owner_id.in_(merchant_ids))
        .order_by(Stall.code)
    ):
        stalls[stall.owner_id].append(
            {"code": stall.code, "name": stall.name, "kelurahan": stall.kelurahan}
        )
    sales = defaultdict(list)
    for sale in db.session.execute(
        select(
            Stall.owner_id,
            Stall.name.label("stall"),
            *REPORT_COLUMNS,
            User.name.label("asn"),
            # The OPD's code (DINKES, BAPPEDA): full names took three lines in a narrow column.
            func.coalesce(Opd.code, "-").label("opd"),
        )
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .join(User, User.id == PurchaseReport.asn_id)
        .outerjoin(Opd, Opd.id == PurchaseReport.opd_id)
        .where(in_month(period), Stall.owner_id.in_(merchant_ids))
        .order_by(PurchaseReport.purchased_at, PurchaseReport.id)
    ):
        sales[sale.owner_id].append(sale)
    contexts = {}
    for merchant in merchants:
        mine = sales.get(merchant.id, [])
        groups, counted_sum = _by_state(
            mine, counted, lambda s: _report_row(s, stall=s.stall, asn=s.asn, opd=s.opd)
        )
        days = {}
        for sale in mine:
            if sale.state in counted:
                day = days.setdefault(
                    format_date_numeric(sale.purchased_at), {"count": 0, "amount": 0}
                )
                day["count"] += 1
                day["amount"] += sale.amount
        contexts[merchant.id] = {
            "merchant": {
                "name": merchant.name,
                "phone": mask_phone(merchant.phone) if merchant.phone else "",
            },
            "stalls": stalls.get(merchant.id, []),
            "groups": groups,
            "counted": counted_sum,
            "days": [{"date": d, **t} for d, t in days.items()],
        }
    return contexts
