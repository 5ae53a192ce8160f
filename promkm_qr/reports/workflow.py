"""State changes of a report, each one atomic and recorded with who, when, why and from where.

A transition is a conditional UPDATE (`WHERE state IN allowed_from`): of two requests racing
to confirm the same report, exactly one changes the row and writes the history entry; the
other sees zero rows changed and gets StateConflict.
"""

from sqlalchemy import select, update

from promkm_qr import audit
from promkm_qr.api import webhooks
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportTransition
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import decisions

# Which states each target state may be reached from.
ALLOWED_FROM = {
    "confirmed": ("submitted",),
    "disputed": ("submitted",),
    "withdrawn": ("submitted",),
    "verified": ("submitted", "confirmed", "disputed"),
    "rejected": ("submitted", "confirmed", "disputed"),
}


class StateConflict(Exception):
    """The report is no longer in a state that allows this change."""


def transition(
    report_id: int,
    to_state: str,
    *,
    actor_id: int | None,
    reason: str | None = None,
    changes: dict | None = None,
    allowed_from: tuple[str, ...] | None = None,
) -> str:
    """Move a report to to_state; returns the state it left. Caller commits."""
    allowed = allowed_from or ALLOWED_FROM[to_state]
    before = db.session.scalar(select(PurchaseReport.state).where(PurchaseReport.id == report_id))
    if before is None:
        raise LookupError(report_id)
    result = db.session.execute(
        update(PurchaseReport)
        .where(
            PurchaseReport.id == report_id,
            PurchaseReport.state.in_(allowed),
            PurchaseReport.state == before,
        )
        .values(state=to_state, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise StateConflict(report_id)
    db.session.add(
        ReportTransition(
            report_id=report_id,
            from_state=before,
            to_state=to_state,
            actor_id=actor_id,
            reason=reason,
            changes=changes,
        )
    )
    audit.record(
        f"report.{to_state}",
        "report",
        report_id,
        actor_id=actor_id,
        # Identifiers only: the typed reason and the changed values stay in the report's history.
        data={"from": before, "reason_given": bool(reason), "fields": sorted(changes or {})},
    )
    if f"report.{to_state}" in webhooks.EVENTS:
        _emit(report_id, before, to_state)
    decisions.report_decided(report_id, to_state, reason)
    return before


def _emit(report_id: int, before: str, to_state: str) -> None:
    """The webhook event of a state change, saved with it (ids and states only)."""
    report = db.session.execute(
        select(PurchaseReport.reference, PurchaseReport.asn_id, PurchaseReport.opd_id,
               PurchaseReport.stall_id, PurchaseReport.amount)
        .where(PurchaseReport.id == report_id)
    ).one()  # fmt: skip
    webhooks.emit(
        f"report.{to_state}",
        {"report_id": report_id, "reference": report.reference, "from_state": before,
         "state": to_state, "asn_user_id": report.asn_id, "opd_id": report.opd_id,
         "stall_id": report.stall_id, "amount": report.amount},
    )  # fmt: skip
