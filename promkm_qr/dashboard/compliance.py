"""ASN quota compliance for the dashboard and the ASN export: spend per rostered ASN."""

from dataclasses import replace

from sqlalchemy import func, select

from promkm_qr.dashboard import rollups
from promkm_qr.dashboard.filters import Filters
from promkm_qr.dashboard.queries import counted_states, grouped, run
from promkm_qr.models import AsnProfile, Opd, User
from promkm_qr.reports.quota import quota_amount, quota_rules


def asn_compliance(f: Filters) -> list[dict]:
    """Every rostered ASN with counted spend in the period against the quota for its months.

    Spend is city-wide whatever area is chosen: a quota is met anywhere in the city.
    """
    city = replace(f, kelurahan_ids=None)
    facts = rollups.facts(rollups.ASN_MONTHS, city, ("asn_id",), counted_states())
    spend = grouped(facts, "asn_id").subquery()
    query = (
        select(
            User.nip,
            User.name,
            Opd.name,
            AsnProfile.opd_id,
            AsnProfile.position_class,
            AsnProfile.tpp_amount,
            func.coalesce(spend.c.n, 0),
            func.coalesce(spend.c.rp, 0),
        )
        .select_from(AsnProfile)
        .join(User, User.id == AsnProfile.user_id)
        .outerjoin(Opd, Opd.id == AsnProfile.opd_id)
        .outerjoin(spend, spend.c.asn_id == User.id)
        .where(AsnProfile.on_roster.is_(True))
        .order_by(Opd.name, User.name)
    )
    rules = quota_rules()
    rows = []
    for nip, name, opd, opd_id, position, tpp, n, rp in run(query).all():
        quota = quota_amount(rules.get(position), tpp) * f.months
        rows.append(
            {
                "nip": nip,
                "name": name,
                "opd": opd or "-",
                "opd_id": opd_id,
                "position_class": position,
                "count": int(n),
                "amount": int(rp),
                "quota": quota,
                "met": int(rp) >= quota,
            }
        )
    return rows


def compliance_by_opd(rows: list[dict]) -> dict[int, int]:
    """Per OPD id, the share (percent) of its rostered ASN who met the quota."""
    totals: dict[int, list[int]] = {}
    for row in rows:
        met_total = totals.setdefault(row["opd_id"], [0, 0])
        met_total[0] += row["met"]
        met_total[1] += 1
    return {opd: round(100 * met / total) for opd, (met, total) in totals.items()}
