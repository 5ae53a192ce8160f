"""Dashboard aggregates: one set-based query per panel over the exact rollups, plain dicts out.

See promkm_qr/dashboard/rollups.py: each panel reads rollup rows plus pending deltas (or the
reports themselves when the period is not whole months and the rollup is monthly).
"""

from datetime import timedelta

from sqlalchemy import func, literal, select, union_all

from promkm_qr.dashboard import rollups
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from promkm_qr.models import (
    AsnProfile,
    Category,
    Kecamatan,
    Kelurahan,
    Opd,
    PurchaseReport,
    ReviewDelta,
    Stall,
)
from promkm_qr.models.report import OPEN_STATES
from promkm_qr.models.rollup import rollup_review
from promkm_qr.reference import get_setting

R = PurchaseReport
REVIEW_DELTAS = ReviewDelta.__table__
# The same condition as the partial index ix_purchase_reports_open_review, so it is used.
OPEN_REVIEW = R.state.in_(OPEN_STATES) & (R.flagged | (R.state == "disputed"))
TOTAL_KEYS = (
    "count",
    "amount",
    "confirmed_count",
    "confirmed_amount",
    "verified_count",
    "verified_amount",
)


def run(query):
    """Execute a SELECT at Core level: plain rows, without the ORM's per-row bookkeeping."""
    return db.session.connection().execute(query)


def counted_states() -> list[str]:
    """The states whose reports count toward totals (a setting every page names).

    get_setting reads the settings once per transaction, so every panel of a page uses one
    answer.
    """
    return list(get_setting("counted_states"))


def in_area(query, f: Filters):
    """Restrict a query that already joins Stall to the filter's kelurahan."""
    return (
        query if f.kelurahan_ids is None else query.where(Stall.kelurahan_id.in_(f.kelurahan_ids))
    )


def grouped(source, *keys):
    """SELECT keys, summed count and rupiah FROM a facts subquery GROUP BY keys."""
    columns = [source.c[k] for k in keys]
    n, rp = func.sum(source.c["count"]), func.sum(source.c.amount)
    return select(*columns, n.label("n"), rp.label("rp")).group_by(*columns)


def totals(f: Filters) -> dict:
    """Counted, confirmed and verified rupiah and report counts for the period."""
    parts = []
    for states in (counted_states(), ["confirmed"], ["verified"]):
        facts = rollups.facts(rollups.AREA_DAYS, f, (), states)
        n, rp = func.sum(facts.c["count"]), func.sum(facts.c.amount)
        parts.append(select(func.coalesce(n, 0), func.coalesce(rp, 0)).subquery())
    # One statement (three one-row parts side by side): one round trip instead of three.
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, literal(True))
    row = run(select(*(c for part in parts for c in part.c)).select_from(joined)).one()
    return dict(zip(TOTAL_KEYS, map(int, row), strict=True))


def by_kelurahan(f: Filters) -> list[dict]:
    """Counted totals per kelurahan in view; kelurahan without sales are listed with zero."""
    facts = rollups.facts(rollups.AREA_DAYS, f, ("kelurahan_id",), counted_states())
    sums = grouped(facts, "kelurahan_id").subquery()
    query = (
        select(Kecamatan.code, Kecamatan.name, Kelurahan.code, Kelurahan.name, sums.c.n, sums.c.rp)
        .select_from(Kelurahan)
        .join(Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id)
        .outerjoin(sums, sums.c.kelurahan_id == Kelurahan.id)
        .order_by(Kelurahan.code)
    )
    if f.kelurahan_ids is not None:
        query = query.where(Kelurahan.id.in_(f.kelurahan_ids))
    return [
        {"kecamatan_code": kec_code, "kecamatan": kec, "code": code, "label": label,
         "count": int(n or 0), "amount": int(rp or 0)}
        for kec_code, kec, code, label, n, rp in run(query)
    ]  # fmt: skip


def by_kecamatan(kelurahan_rows: list[dict]) -> list[dict]:
    """Kecamatan totals summed from the kelurahan panel's rows (no second scan)."""
    totals: dict[str, dict] = {}
    for row in kelurahan_rows:
        kec = totals.setdefault(
            row["kecamatan_code"],
            {"code": row["kecamatan_code"], "label": row["kecamatan"], "count": 0, "amount": 0},
        )
        kec["count"] += row["count"]
        kec["amount"] += row["amount"]
    return [totals[code] for code in sorted(totals)]


def by_category(f: Filters) -> list[dict]:
    """Counted totals per stall category, largest first."""
    facts = rollups.facts(rollups.AREA_DAYS, f, ("category_id",), counted_states())
    sums = grouped(facts, "category_id").subquery()
    label = func.coalesce(Category.name, "-")
    rp = func.sum(sums.c.rp)
    query = (
        select(label, func.sum(sums.c.n), rp)
        .select_from(sums)
        .outerjoin(Category, Category.id == sums.c.category_id)
        .group_by(label)
        .having(func.sum(sums.c.n) != 0)
        .order_by(rp.desc())
    )
    return [{"label": n, "count": int(c), "amount": int(a)} for n, c, a in run(query)]


def by_day(f: Filters) -> list[dict]:
    """Counted totals per WIB day of the period, in date order; days without sales show zero."""
    facts = rollups.facts(rollups.AREA_DAYS, f, ("day",), counted_states())
    found = {str(d): (int(c), int(a)) for d, c, a in run(grouped(facts, "day"))}
    days = [f.start + timedelta(days=n) for n in range((f.end - f.start).days + 1)]
    return [
        {"label": d.isoformat(), "count": found.get(d.isoformat(), (0, 0))[0],
         "amount": found.get(d.isoformat(), (0, 0))[1]}
        for d in days
    ]  # fmt: skip


def _stall_sales(f: Filters):
    """Per stall with a counted report in the period: count and rupiah (a CTE)."""
    sales = rollups.totals_by_key(rollups.STALL_MONTHS, f, counted_states())
    return select(sales.c.stall_id, sales.c.n, sales.c.rp).where(sales.c.n > 0).cte("sales")


def stall_panels(f: Filters, top: int = 10, idle: int = 20) -> tuple[list[dict], dict]:
    """The top stalls by counted rupiah, and the active stalls in view without a counted report
    (how many, and the first few by code): one statement, so the sales are grouped once."""
    sales = _stall_sales(f)
    # Only stalls reaching the top-th largest total meet the stall table, not every seller.
    floor = select(sales.c.rp).order_by(sales.c.rp.desc()).offset(top - 1).limit(1)
    best = (
        select(literal("top").label("kind"), Stall.code, Stall.name, sales.c.n, sales.c.rp)
        .join(Stall, Stall.id == sales.c.stall_id)
        .where(sales.c.rp >= func.coalesce(floor.scalar_subquery(), 0))
        .order_by(sales.c.rp.desc(), Stall.code)
        .limit(top)
    )
    # Counted over all unsold stalls first, then ordered: ordering inside would walk the code
    # index through every stall instead of scanning the table once.
    unsold = select(Stall.code, Stall.name, func.count().over().label("total"))
    unsold = in_area(
        unsold.where(Stall.status == "active", Stall.id.not_in(select(sales.c.stall_id))), f
    )
    unsold = unsold.subquery()
    unsold = (
        select(literal("idle"), unsold.c.code, unsold.c.name, unsold.c.total, literal(0))
        .order_by(unsold.c.code)
        .limit(idle)
    )
    rows = run(union_all(select(best.subquery()), select(unsold.subquery()))).all()
    leaders = sorted(
        ({"code": c, "name": nm, "count": int(n), "amount": int(rp)}
         for kind, c, nm, n, rp in rows if kind == "top"),
        key=lambda r: (-r["amount"], r["code"]),
    )  # fmt: skip
    quiet = sorted((r for r in rows if r.kind == "idle"), key=lambda r: r.code)
    return leaders, {
        "count": int(quiet[0].n) if quiet else 0,
        "stalls": [{"code": r.code, "name": r.name} for r in quiet],
    }


def _asn_spend(f: Filters):
    """Per ASN and report OPD with a counted report in the area and period (a subquery)."""
    rollup = rollups.ASN_MONTHS if f.city_wide else rollups.ASN_AREA_MONTHS
    if f.city_wide:
        spend = rollups.totals_by_key(rollup, f, counted_states())
        return (
            select(spend.c.asn_id, spend.c.opd_id, spend.c.n, spend.c.rp)
            .where(spend.c.n > 0)
            .subquery()
        )
    facts = rollups.facts(rollup, f, ("asn_id", "opd_id"), counted_states())
    return grouped(facts, "asn_id", "opd_id").having(func.sum(facts.c["count"]) > 0).subquery()


def by_opd(f: Filters) -> list[dict]:
    """Counted totals per OPD with how many of its rostered ASN reported (participation)."""
    spend = _asn_spend(f)
    reported = (
        select(
            spend.c.opd_id.label("opd"),
            func.sum(spend.c.n).label("n"),
            func.sum(spend.c.rp).label("rp"),
            func.count().label("asn"),
        )
        .group_by(spend.c.opd_id)
        .subquery()
    )
    roster = (
        select(AsnProfile.opd_id.label("opd"), func.count().label("asn"))
        .where(AsnProfile.on_roster.is_(True))
        .group_by(AsnProfile.opd_id)
        .subquery()
    )
    query = (
        select(Opd.id, Opd.name, reported.c.n, reported.c.rp, reported.c.asn, roster.c.asn)
        .outerjoin(reported, reported.c.opd == Opd.id)
        .outerjoin(roster, roster.c.opd == Opd.id)
        .where((reported.c.n.is_not(None)) | (roster.c.asn.is_not(None)))
        .order_by(func.coalesce(reported.c.rp, 0).desc(), Opd.name)
    )
    rows = []
    for opd_id, name, n, rp, active, on_roster in run(query):
        rows.append(
            {
                "id": opd_id,
                "label": name,
                "count": int(n or 0),
                "amount": int(rp or 0),
                "asn_reporting": int(active or 0),
                "asn_roster": int(on_roster or 0),
                "participation_pct": round(100 * (active or 0) / on_roster) if on_roster else None,
            }
        )
    return rows


def review_reasons(f: Filters) -> list[dict]:
    """Open reports awaiting review in the area, counted per reason (flag rule or dispute).

    Read from the queue's exact rollup plus its pending deltas (migration 0009), not from
    the reports: the queue can be tens of thousands of reports.
    """
    parts = []
    for table in (rollup_review, REVIEW_DELTAS):
        part = select(table.c.reason, table.c["count"])
        if f.kelurahan_ids is not None:
            part = part.where(table.c.kelurahan_id.in_(f.kelurahan_ids))
        parts.append(part)
    rows = union_all(*parts).subquery()
    found = dict(
        run(select(rows.c.reason, func.sum(rows.c["count"])).group_by(rows.c.reason)).all()
    )
    disputed = int(found.pop("disputed", None) or 0)
    counts = [{"label": rule, "count": int(n)} for rule, n in found.items() if n > 0]
    counts.append({"label": "disputed", "count": disputed})
    return sorted(counts, key=lambda r: (-r["count"], r["label"]))
