"""Webhook deliveries, each retried with exponential back-off for a day."""

from celery import shared_task

from promkm_qr.api import webhook_send


@shared_task(name="promkm_qr.webhooks.deliver", bind=True, max_retries=None, acks_late=True)
def deliver(self, delivery_id: int) -> str:
    """Send a delivery; on failure try again later (the delivery row counts the attempts)."""
    outcome = webhook_send.attempt(delivery_id)
    if outcome == "retry":
        attempts = webhook_send.attempts_of(delivery_id)
        raise self.retry(countdown=webhook_send.backoff(attempts))
    return outcome
