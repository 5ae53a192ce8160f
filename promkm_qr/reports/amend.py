"""Changes an ASN makes to their own report while the merchant has not yet confirmed it."""

from datetime import datetime

from sqlalchemy import select, update

from promkm_qr import audit, outbox
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportTransition
from promkm_qr.models.base import utcnow
from promkm_qr.reports import workflow
from promkm_qr.reports.submit import RULES_TASK

EDITABLE = ("amount", "goods_category", "description", "payment_method", "purchased_at")


def own_report(report_id: int, asn_id: int) -> PurchaseReport | None:
    """The report if this ASN made it; None otherwise (callers answer 404, never 403)."""
    return db.session.scalar(
        select(PurchaseReport).where(
            PurchaseReport.id == report_id, PurchaseReport.asn_id == asn_id
        )
    )


def _plain(value):
    """A value as JSON can keep it in the history."""
    return value.isoformat() if isinstance(value, datetime) else value


def edit_report(report_id: int, asn_id: int, values: dict) -> dict:
    """Apply the changed fields while the report is submitted; returns {field: [old, new]}."""
    report = own_report(report_id, asn_id)
    if report is None:
        raise LookupError(report_id)
    changed = {k: values[k] for k in EDITABLE if k in values and values[k] != getattr(report, k)}
    if not changed:
        return {}
    changes = {k: [_plain(getattr(report, k)), _plain(v)] for k, v in changed.items()}
    # Conditional, like every state change: a confirmation that lands first wins.
    result = db.session.execute(
        update(PurchaseReport)
        .where(PurchaseReport.id == report_id, PurchaseReport.state == "submitted")
        .values(**changed, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise workflow.StateConflict(report_id)
    db.session.add(
        ReportTransition(
            report_id=report_id,
            from_state="submitted",
            to_state="submitted",
            actor_id=asn_id,
            reason="edited",
            changes=changes,
        )
    )
    # The trail names the fields; their old and new values stay in the report's history.
    audit.record(
        "report.edited", "report", report_id, actor_id=asn_id, data={"fields": sorted(changes)}
    )
    # Amount and time feed the rules, so they look at the report again.
    message = outbox.enqueue(RULES_TASK, report_id)
    db.session.commit()
    outbox.send_pending([message])
    return changes


def withdraw_report(report_id: int, asn_id: int, reason: str | None = None) -> None:
    """Withdraw the ASN's own report while it is still submitted."""
    if own_report(report_id, asn_id) is None:
        raise LookupError(report_id)
    try:
        workflow.transition(report_id, "withdrawn", actor_id=asn_id, reason=reason)
    except workflow.StateConflict:
        db.session.rollback()
        raise
    db.session.commit()
