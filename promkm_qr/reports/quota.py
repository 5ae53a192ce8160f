"""Monthly quotas: what an ASN must spend at UMKM in a month, from the editable rules."""

from sqlalchemy import select

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


def quota_rules() -> dict[str, QuotaRule]:
    """All rules keyed by position class (load once per request or batch)."""
    return {r.position_class: r for r in db.session.scalars(select(QuotaRule))}
