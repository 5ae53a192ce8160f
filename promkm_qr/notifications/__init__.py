"""Reminders: what waits for merchants, ASN and staff, composed daily and sent on their channels.

compose.py finds who is told what; texts.py words it; store.py records one row per message,
recipient and channel and hands the rows to Celery through the outbox; delivery.py applies
quiet hours, caps and opt-outs and calls the channel (whatsapp.py, mail.py). The in-app
channel is the table itself (inbox.py).
"""
