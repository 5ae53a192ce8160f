"""Monthly quotas: what an ASN must spend at UMKM in a month, from the editable rules."""

from sqlalchemy import BigInteger, case, cast, func, select

from promkm_qr.extensions import db
from promkm_qr.models import QuotaRule


def quota_amount(rule: QuotaRule | None, tpp_amount: int | None) -> int:
    """The month's minimum in rupiah: a fixed amount, or a TPP share with the amount as floor."""
    if rule is None:
        return 0
    if rule.kind == "tpp_share" and rule.tpp_share_pct:
        share = (tpp_amount or 0) * rule.tpp_share_pct // 100
        return max(share, rule.amount)
    return rule.amount


def quota_sql(tpp_amount):
    """quota_amount as a SQL expression, for a query that outer-joins QuotaRule (no rule: 0).

    In bigint: a TPP times a percentage overflows PostgreSQL's integer. TPP amounts are never
    negative (the roster import refuses them), so SQL's truncating division is Python's //.
    """
    amount = cast(QuotaRule.amount, BigInteger)
    share = cast(func.coalesce(tpp_amount, 0), BigInteger) * QuotaRule.tpp_share_pct // 100
    return case(
        (QuotaRule.id.is_(None), cast(0, BigInteger)),
        (
            (QuotaRule.kind == "tpp_share") & (func.coalesce(QuotaRule.tpp_share_pct, 0) != 0),
            case((share > amount, share), else_=amount),
        ),
        else_=amount,
    )


def quota_rules() -> dict[str, QuotaRule]:
    """All rules keyed by position class (load once per request or batch)."""
    return {r.position_class: r for r in db.session.scalars(select(QuotaRule))}
