"""Verification tasks: the flagging rules after each submission or for a batch, and the
daily sweep that sends reports merchants left unanswered to the dinas review queue."""

import logging

from celery import shared_task

from promkm_qr.extensions import db
from promkm_qr.reports.checks import check_reports
from promkm_qr.reports.review import sweep_unanswered

log = logging.getLogger(__name__)


@shared_task(name="promkm_qr.reports.check_rules")
def check_rules(report_id: int) -> dict:
    """Run the rules on one report (sent by the submission's outbox message)."""
    result = check_reports([report_id])
    db.session.commit()
    log.info("rules checked for report %s", report_id)
    return result


# The result (counts) is kept so a caller such as the bench can wait for each batch.
@shared_task(name="promkm_qr.reports.check_rules_batch", ignore_result=False)
def check_rules_batch(report_ids: list[int]) -> dict:
    """Run the rules on many reports with set-based queries (re-checks, the bench)."""
    result = check_reports(report_ids)
    db.session.commit()
    return result


@shared_task(name="promkm_qr.reports.sweep_unanswered")
def sweep_unanswered_task() -> int:
    """Flag reports the merchant has not answered within the configured days."""
    count = sweep_unanswered()
    db.session.commit()
    return count
