"""The ASN is told on the day a report of theirs is disputed or rejected, with the reason.

Composed inside the state change's transaction (workflow.transition), so the message exists
exactly when the change does; its rows and outbox messages commit with it, and the outbox
flush hands them to Celery. Quiet hours, caps and opt-out apply as to every reminder.
"""

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, User
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import texts
from promkm_qr.notifications.store import RECIPIENT_COLUMNS, Draft, Recipient, add, link, locale_of

TOLD = ("disputed", "rejected")
# The reason is typed text: a phone notification needs only its start (the page has it all).
REASON_MAX = 200


def report_decided(report_id: int, to_state: str, reason: str | None) -> None:
    """Record the message to the report's ASN; the caller commits."""
    if to_state not in TOLD:
        return
    row = db.session.execute(
        select(PurchaseReport.reference, PurchaseReport.amount, *RECIPIENT_COLUMNS)
        .join(User, User.id == PurchaseReport.asn_id)
        .where(PurchaseReport.id == report_id, User.active.is_(True))
    ).first()
    if row is None:
        return
    reference, amount, recipient = row.reference, row.amount, Recipient.of(row)
    if reason and len(reason) > REASON_MAX:
        reason = reason[: REASON_MAX - 1] + "…"
    text = texts.asn_report_decided(
        locale_of(recipient),
        to_state,
        reference,
        amount,
        reason,
        link("asn.receipt", report_id=report_id),
        link("notifications.preferences"),
    )
    draft = Draft(recipient, texts.ASN_REPORT_DECIDED, f"{report_id}:{to_state}", text)
    add([draft], utcnow())
