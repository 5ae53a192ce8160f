"""Plain data for the documents of an area: verification reports and the city recap."""

from collections import defaultdict

from sqlalchemy import func, or_, select

from promkm_qr.core.dates import format_date_numeric
from promkm_qr.documents.data import (
    counted_states,
    counted_total,
    grouped_state_totals,
    in_month,
    parse_period,
    period_label,
    state_totals,
)
from promkm_qr.extensions import db
from promkm_qr.models import (
    AsnProfile,
    Category,
    Kecamatan,
    Kelurahan,
    Opd,
    PurchaseReport,
    ReportFlag,
    ReportTransition,
    Stall,
    User,
)
from promkm_qr.reports.quota import quota_amount, quota_rules
from promkm_qr.reports.states import state_label

STALL_JOIN = (Stall, Stall.id == PurchaseReport.stall_id)
KELURAHAN_JOIN = (Kelurahan, Kelurahan.id == Stall.kelurahan_id)

# Per area kind: the column a report is grouped by, the joins it needs, its name lookup.
AREAS = {
    "kelurahan": (Stall.kelurahan_id, (STALL_JOIN,), Kelurahan, "Kelurahan"),
    "kecamatan": (Kelurahan.kecamatan_id, (STALL_JOIN, KELURAHAN_JOIN), Kecamatan, "Kecamatan"),
    "opd": (PurchaseReport.opd_id, (), Opd, "OPD"),
}


def _joined(query, joins):
    """Apply (target, condition) joins to a SELECT."""
    for target, condition in joins:
        query = query.join(target, condition)
    return query


def _roster_size(opd_ids: list[int] | None = None) -> dict:
    """ASN on the roster: {opd_id: count}, or {None: count} for the whole city."""
    if opd_ids is None:
        total = db.session.scalar(select(func.count()).where(AsnProfile.on_roster.is_(True)))
        return {None: total}
    rows = db.session.execute(
        select(AsnProfile.opd_id, func.count())
        .where(AsnProfile.on_roster.is_(True), AsnProfile.opd_id.in_(opd_ids))
        .group_by(AsnProfile.opd_id)
    )
    return dict(rows.all())


def _quota_compliance(period: str, opd_ids: list[int]) -> dict[int, int]:
    """How many roster ASN of each OPD met their quota in the month."""
    counted, rules = counted_states(), quota_rules()
    spent = dict(
        db.session.execute(
            select(PurchaseReport.asn_id, func.sum(PurchaseReport.amount))
            .where(
                in_month(period),
                PurchaseReport.state.in_(counted),
                PurchaseReport.opd_id.in_(opd_ids),
            )
            .group_by(PurchaseReport.asn_id)
        ).all()
    )
    met = defaultdict(int)
    for user_id, opd_id, position, tpp in db.session.execute(
        select(
            AsnProfile.user_id, AsnProfile.opd_id, AsnProfile.position_class, AsnProfile.tpp_amount
        ).where(AsnProfile.on_roster.is_(True), AsnProfile.opd_id.in_(opd_ids))
    ):
        if int(spent.get(user_id) or 0) >= quota_amount(rules.get(position), tpp):
            met[opd_id] += 1
    return met


def _attention(period: str, key_column, joins, keys: list[int]) -> dict[int, list[dict]]:
    """Flagged and disputed reports per area, with their flags and the dispute reasons."""
    reports = db.session.execute(
        _joined(
            select(
                key_column.label("key"),
                PurchaseReport.id,
                PurchaseReport.reference,
                PurchaseReport.purchased_at,
                PurchaseReport.amount,
                PurchaseReport.state,
                Stall.name.label("stall"),
                User.name.label("asn"),
            )
            .select_from(PurchaseReport)
            .join(User, User.id == PurchaseReport.asn_id),
            joins or (STALL_JOIN,),
        )
        .where(
            in_month(period),
            key_column.in_(keys),
            or_(PurchaseReport.flagged.is_(True), PurchaseReport.state == "disputed"),
        )
        .order_by(PurchaseReport.purchased_at, PurchaseReport.id)
    ).all()
    ids = [r.id for r in reports]
    notes = defaultdict(list)
    for report_id, detail in db.session.execute(
        select(ReportFlag.report_id, ReportFlag.detail)
        .where(ReportFlag.report_id.in_(ids))
        .order_by(ReportFlag.id)
    ):
        notes[report_id].append(detail)
    for report_id, reason in db.session.execute(
        select(ReportTransition.report_id, ReportTransition.reason)
        .where(ReportTransition.report_id.in_(ids), ReportTransition.to_state == "disputed")
        .order_by(ReportTransition.id)
    ):
        notes[report_id].append(f"Sanggahan: {reason or '-'}")
    listed = defaultdict(list)
    for r in reports:
        listed[r.key].append(
            {
                "date": format_date_numeric(r.purchased_at),  # one line in a narrow column
                "reference": r.reference,
                "stall": r.stall,
                "asn": r.asn,
                "amount": r.amount,
                "state": state_label(r.state),
                "notes": notes.get(r.id, []),
            }
        )
    return listed


def verification_reports(period: str, area: str, keys: list[int]) -> dict[int, dict]:
    """Verification data per kelurahan, kecamatan or OPD of the chunk."""
    key_column, joins, model, area_label = AREAS[area]
    counted = counted_states()
    names = dict(db.session.execute(select(model.id, model.name).where(model.id.in_(keys))).all())
    totals = grouped_state_totals(key_column, keys, period, *joins)
    attention = _attention(period, key_column, joins, keys)
    reporters = dict(
        db.session.execute(
            _joined(
                select(key_column, func.count(func.distinct(PurchaseReport.asn_id))).select_from(
                    PurchaseReport
                ),
                joins,
            )
            .where(in_month(period), key_column.in_(keys))
            .group_by(key_column)
        ).all()
    )
    roster = _roster_size(keys if area == "opd" else None)
    met = _quota_compliance(period, keys) if area == "opd" else {}
    contexts = {}
    for key in keys:
        all_asn = roster.get(key if area == "opd" else None, 0)
        contexts[key] = {
            "area": {"kind": area_label, "name": names.get(key, "-")},
            "totals": totals[key],
            "counted": counted_total(totals[key], counted),
            "attention": attention.get(key, []),
            "participation": {"reported": reporters.get(key, 0), "all": all_asn},
            "quota": {"met": met.get(key, 0), "all": all_asn} if area == "opd" else None,
        }
    return contexts


def _totals_by(name_column, period: str, counted: list[str], *joins) -> list[dict]:
    """Count and counted amount of the month's reports grouped by a name column."""
    query = _joined(
        select(
            name_column.label("name"),
            func.count(PurchaseReport.id),
            func.coalesce(func.sum(PurchaseReport.amount), 0),
        ).select_from(PurchaseReport),
        joins,
    )
    rows = db.session.execute(
        query.where(in_month(period), PurchaseReport.state.in_(counted))
        .group_by(name_column)
        .order_by(name_column)
    )
    return [{"name": name or "-", "count": c, "amount": int(a)} for name, c, a in rows]


def _previous_periods(period: str, count: int = 6) -> list[str]:
    """The month and the count - 1 before it, oldest first, as "YYYY-MM"."""
    year, month = parse_period(period)
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def city_recap(period: str) -> dict:
    """City totals by kecamatan, kelurahan, OPD and category, and the month against earlier ones."""
    counted = counted_states()
    pairs = db.session.execute(
        select(
            PurchaseReport.state,
            func.count(PurchaseReport.id),
            func.coalesce(func.sum(PurchaseReport.amount), 0),
        )
        .where(in_month(period))
        .group_by(PurchaseReport.state)
    )
    totals = state_totals((s, c, int(a)) for s, c, a in pairs)
    history = []
    for month in _previous_periods(period):
        count, amount = db.session.execute(
            select(
                func.count(PurchaseReport.id), func.coalesce(func.sum(PurchaseReport.amount), 0)
            ).where(in_month(month), PurchaseReport.state.in_(counted))
        ).one()
        history.append({"name": period_label(month), "count": count, "amount": int(amount)})
    return {
        "totals": totals,
        "counted": counted_total(totals, counted),
        "kecamatan": _totals_by(
            Kecamatan.name,
            period,
            counted,
            STALL_JOIN,
            KELURAHAN_JOIN,
            (Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id),
        ),
        "kelurahan": _totals_by(Kelurahan.name, period, counted, STALL_JOIN, KELURAHAN_JOIN),
        "opd": _totals_by(Opd.name, period, counted, (Opd, Opd.id == PurchaseReport.opd_id)),
        "category": _totals_by(
            Category.name, period, counted, STALL_JOIN, (Category, Category.id == Stall.category_id)
        ),
        "history": history,
    }
