"""ASN quota compliance for the dashboard and the ASN export: spend per rostered ASN.

Quotas are computed in SQL (reports/quota.py: quota_sql), so the dashboard receives only the
per-OPD counts and the first ASN below quota, not the whole roster.
"""

from dataclasses import replace

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)

from promkm_qr.dashboard import rollups
from promkm_qr.dashboard.filters import Filters
from promkm_qr.dashboard.queries import counted_states, grouped, run
from promkm_qr.models import AsnProfile, Opd, QuotaRule, User
from promkm_qr.reports.quota import quota_sql


def roster_spend(f: Filters, ids: tuple[int, int] | None = None):
    """Every rostered ASN with counted spend in the period and its quota for the period's months.

    Spend is city-wide whatever area is chosen: a quota is met anywhere in the city. `ids`
    (lowest, highest user id) sums only that range: a page of the API reads one range.
    """
    city = replace(f, kelurahan_ids=None)
    facts = rollups.facts(rollups.ASN_MONTHS, city, ("asn_id",), counted_states())
    spend = grouped(facts, "asn_id")
    if ids is not None:
        spend = spend.where(facts.c.asn_id.between(*ids))
    spend = spend.subquery()
    rp = func.coalesce(spend.c.rp, 0)
    quota = quota_sql(AsnProfile.tpp_amount) * f.months
    return (
        select(
            User.id,
            User.nip,
            User.name,
            Opd.name.label("opd"),
            AsnProfile.opd_id,
            AsnProfile.position_class,
            func.coalesce(spend.c.n, 0).label("n"),
            rp.label("rp"),
            quota.label("quota"),
            case((rp >= quota, 1), else_=0).label("met"),
        )
        .select_from(AsnProfile)
        .join(User, User.id == AsnProfile.user_id)
        .outerjoin(Opd, Opd.id == AsnProfile.opd_id)
        .outerjoin(QuotaRule, QuotaRule.position_class == AsnProfile.position_class)
        .outerjoin(spend, spend.c.asn_id == User.id)
        .where(AsnProfile.on_roster.is_(True))
    )


def _row(r) -> dict:
    """An ASN row as the export and the page show it."""
    return {
        "nip": r.nip,
        "name": r.name,
        "opd": r.opd or "-",
        "opd_id": r.opd_id,
        "position_class": r.position_class,
        "count": int(r.n),
        "amount": int(r.rp),
        "quota": int(r.quota),
        "met": bool(r.met),
    }


def asn_compliance(f: Filters) -> list[dict]:
    """Every rostered ASN with counted spend in the period against the quota for its months."""
    people = roster_spend(f).subquery()
    query = select(people).order_by(people.c.opd, people.c.name, people.c.id)
    return [_row(r) for r in run(query)]


def below_quota(f: Filters) -> list[tuple[int, int, int]]:
    """(user id, counted rupiah, quota) of every rostered ASN below the quota in the period."""
    people = roster_spend(f).subquery()
    query = select(people.c.id, people.c.rp, people.c.quota).where(people.c.met == 0)
    return [(r.id, int(r.rp), int(r.quota)) for r in run(query.order_by(people.c.id))]


def quota_panel(f: Filters, listed: int = 20) -> dict:
    """The dashboard's quota figures in one statement: per OPD id the share (percent) of its
    rostered ASN who met the quota, how many are on the roster and below quota, and the first
    `listed` below quota in the export's order (OPD, name)."""
    people = roster_spend(f).cte("people")
    c = people.c
    text, number = cast(null(), String), cast(null(), BigInteger)
    per_opd = select(
        literal("opd").label("kind"), c.opd_id, text.label("nip"), text.label("name"),
        text.label("opd"), text.label("position_class"), func.count().label("n"),
        func.sum(c.met).label("rp"), number.label("quota"), cast(null(), Integer).label("met"),
        literal(0).label("rank"),
    ).group_by(c.opd_id)  # fmt: skip
    rank = func.row_number().over(order_by=(c.opd, c.name, c.id))
    below = select(
        literal("below"), c.opd_id, c.nip, c.name, c.opd, c.position_class, c.n, c.rp, c.quota,
        c.met, rank.label("rank"),
    ).where(c.met == 0)  # fmt: skip
    below = below.subquery()
    below = select(below).where(below.c.rank <= listed)
    rows = run(union_all(select(per_opd.subquery()), below)).all()
    counts = {r.opd_id: (int(r.rp), int(r.n)) for r in rows if r.kind == "opd"}
    total = sum(n for _met, n in counts.values())
    met = sum(m for m, _n in counts.values())
    return {
        "asn_total": total,
        "below_count": total - met,
        "below": [_row(r) for r in sorted(rows, key=lambda r: r.rank) if r.kind == "below"],
        # Rounded in Python as before (half to even), so the percentages do not change.
        "by_opd": {opd: round(100 * m / n) for opd, (m, n) in counts.items()},
    }
