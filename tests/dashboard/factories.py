"""Purchase reports and a two-kecamatan world for dashboard tests."""

import itertools
import secrets
from datetime import datetime

from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportFlag, Stall, User

_seq = itertools.count(1)


def make_report(
    asn: User,
    stall: Stall,
    amount: int,
    purchased_at: datetime,
    state: str = "submitted",
    flags: tuple[str, ...] = (),
) -> PurchaseReport:
    """A committed report (purchased_at is naive UTC, as stored)."""
    report = PurchaseReport(
        reference=f"PRT{next(_seq):06d}",
        idempotency_key=secrets.token_hex(16),
        asn_id=asn.id,
        opd_id=asn.asn.opd_id,
        stall_id=stall.id,
        amount=amount,
        goods_category="makanan",
        purchased_at=purchased_at,
        state=state,
        flagged=bool(flags),
    )
    db.session.add(report)
    db.session.flush()
    db.session.add_all(ReportFlag(report_id=report.id, rule=r, detail=r) for r in flags)
    db.session.commit()
    return report
