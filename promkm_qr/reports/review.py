"""Decisions on reports: the merchant confirms or disputes, dinas verifies or rejects.

Every decision goes through `workflow.transition` (an atomic conditional UPDATE with a
history row and an audit entry), so of two people deciding the same report at the same
moment exactly one wins; the other's report is counted as skipped. Access is checked here
too: a report outside the merchant's stalls or the staff member's scope is a LookupError,
which views answer with 404.
"""

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

from promkm_qr import audit
from promkm_qr.core.text import check_text
from promkm_qr.dinas.scope import apply_scope
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportFlag, Stall, User
from promkm_qr.models.base import utcnow
from promkm_qr.reference import get_setting
from promkm_qr.reports.rules import FLAG_LABELS, UNANSWERED
from promkm_qr.reports.workflow import StateConflict, transition

DISPUTE_REASONS = {
    "amount": _l("Nominal salah"),
    "no_purchase": _l("Tidak ada pembelian"),
    "other": _l("Lainnya"),
}
DECISIONS = {"verified": _l("Verifikasi"), "rejected": _l("Tolak")}


class NotAllowed(Exception):
    """The actor may see the report but not make this decision on it."""


def _apply(report_ids: list[int], to_state: str, actor_id: int, reason: str | None) -> dict:
    """Transition each report; reports someone else already moved are skipped, not errors."""
    done, skipped = [], []
    for report_id in report_ids:
        try:
            transition(report_id, to_state, actor_id=actor_id, reason=reason)
            done.append(report_id)
        except StateConflict:
            skipped.append(report_id)
    return {"done": done, "skipped": skipped}


def merchant_reports(report_ids: list[int], merchant_id: int) -> list[PurchaseReport]:
    """The merchant's own reports among the ids; any other id raises LookupError."""
    ids = sorted(set(report_ids))
    found = db.session.scalars(
        select(PurchaseReport)
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .where(PurchaseReport.id.in_(ids), Stall.owner_id == merchant_id)
        .order_by(PurchaseReport.id)
    ).all()
    if not ids or len(found) != len(ids):
        raise LookupError(report_ids)
    return found


def confirm(report_ids: list[int], merchant_id: int) -> dict:
    """The merchant confirms the sales happened; one or many reports at once."""
    reports = merchant_reports(report_ids, merchant_id)
    if any(r.asn_id == merchant_id for r in reports):
        raise NotAllowed
    return _apply([r.id for r in reports], "confirmed", merchant_id, None)


def dispute(report_id: int, merchant_id: int, reason_code: str, note: str = "") -> dict:
    """The merchant says the sale did not happen as reported, with a reason."""
    (report,) = merchant_reports([report_id], merchant_id)
    if report.asn_id == merchant_id or reason_code not in DISPUTE_REASONS:
        raise NotAllowed
    check_text(note)
    reason = str(DISPUTE_REASONS[reason_code]) + (f": {note.strip()}" if note.strip() else "")
    return _apply([report.id], "disputed", merchant_id, reason)


def scoped_reports(query, staff: User):
    """A report query limited to the staff member's kelurahan scope."""
    return apply_scope(
        query.join(Stall, Stall.id == PurchaseReport.stall_id), Stall.kelurahan_id, staff
    )


def decide(report_ids: list[int], staff: User, decision: str, reason: str) -> dict:
    """Dinas verify or reject reports in their scope, always with a reason."""
    if decision not in DECISIONS or not reason.strip():
        raise NotAllowed
    check_text(reason)
    ids = sorted(set(report_ids))
    visible = db.session.scalars(
        scoped_reports(select(PurchaseReport.id), staff).where(PurchaseReport.id.in_(ids))
    ).all()
    if not ids or len(visible) != len(ids):
        raise LookupError(report_ids)
    return _apply(ids, decision, staff.id, reason.strip())


def sweep_unanswered(now=None) -> int:
    """Flag submitted reports older than `confirm_within_days` for the review queue."""
    cutoff = (now or utcnow()) - timedelta(days=get_setting("confirm_within_days"))
    already = select(ReportFlag.id).where(
        ReportFlag.report_id == PurchaseReport.id, ReportFlag.rule == UNANSWERED
    )
    ids = db.session.scalars(
        select(PurchaseReport.id).where(
            PurchaseReport.state == "submitted",
            PurchaseReport.created_at < cutoff,
            ~already.exists(),
        )
    ).all()
    if not ids:
        return 0
    with force_locale("id"):
        detail = str(FLAG_LABELS[UNANSWERED])
    db.session.execute(
        insert(ReportFlag), [{"report_id": i, "rule": UNANSWERED, "detail": detail} for i in ids]
    )
    db.session.execute(
        update(PurchaseReport)
        .where(PurchaseReport.id.in_(ids))
        .values(flagged=True)
        .execution_options(synchronize_session=False)
    )
    audit.record("report.unanswered", "report", None, data={"reports": ids})
    return len(ids)
