"""Reminder tasks: the daily composition (checked every few minutes), delivery of queued
rows, and the release of rows held for quiet hours or waiting for a retry."""

from celery import shared_task

from promkm_qr.models.base import utcnow


@shared_task(name="promkm_qr.notifications.compose")
def compose_reminders() -> dict | None:
    """Compose today's reminders once the city's send time has passed (once a day)."""
    from promkm_qr.notifications.compose import compose_due

    return compose_due(utcnow())


@shared_task(name="promkm_qr.notifications.deliver")
def deliver_reminders(ids: list[int]) -> dict:
    """Send queued reminders on their channels (sent by an outbox message)."""
    from promkm_qr.notifications.delivery import deliver

    return deliver(ids)


@shared_task(name="promkm_qr.notifications.release_due")
def release_due_reminders() -> int:
    """Queue again reminders held for quiet hours or waiting for a retry."""
    from promkm_qr.notifications.delivery import release_due

    return release_due()
