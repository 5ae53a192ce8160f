"""Record composed reminders, one row per recipient and channel, and hand them to Celery.

The row's idempotency key (kind, subject, day, recipient, channel) is unique, so a second
run of the same day's composition inserts nothing and sends nothing twice. Rows for the
in-app channel are delivered by being stored; the others travel through the outbox, in the
same transaction, so a broker that is down delays them and loses none.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from flask import current_app, url_for
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.models import Notification, User
from promkm_qr.notifications.texts import Text
from promkm_qr.reference import get_setting

DELIVER_TASK = "promkm_qr.notifications.deliver"
# Ids per delivery task: few enough that one task ends in seconds.
BATCH = 200
# Drafts per transaction.
CHUNK = 1000


@dataclass(frozen=True)
class Recipient:
    """What choosing channels needs of an account, read in the composing query."""

    id: int
    locale: str | None
    phone: str | None
    email: str | None
    prefs: dict | None
    whatsapp_refused: bool

    @classmethod
    def of(cls, person) -> "Recipient":
        """From a User, or a row that selected RECIPIENT_COLUMNS."""
        refused = person.whatsapp_refused_at is not None
        return cls(person.id, person.locale, person.phone, person.email,
                   person.notification_prefs, refused)  # fmt: skip


# What Recipient.of reads, for the queries that compose reminders.
RECIPIENT_COLUMNS = (
    User.id, User.locale, User.phone, User.email, User.notification_prefs, User.whatsapp_refused_at
)  # fmt: skip


@dataclass(frozen=True)
class Draft:
    """A composed reminder for one recipient; `subject` names what it is about (a day)."""

    recipient: Recipient
    kind: str
    subject: str
    text: Text


def link(endpoint: str, **values) -> str:
    """An absolute link to a page (sign-in first when needed, then back to it)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def locale_of(recipient: Recipient) -> str:
    """The recipient's language: English only for accounts set to English."""
    return "en" if recipient.locale == "en" else "id"


def channels(recipient: Recipient) -> list[str]:
    """The channels this recipient can be reached on (the app always)."""
    config = current_app.config
    found = ["inapp"]
    wa_ready = config.get("WHATSAPP_TOKEN") and config.get("WHATSAPP_PHONE_NUMBER_ID")
    if wa_ready and recipient.phone and not recipient.whatsapp_refused:
        found.append("whatsapp")
    if config.get("SMTP_HOST") and recipient.email:
        found.append("email")
    off = set((recipient.prefs or {}).get("channels_off", ())) - {"inapp"}
    return [c for c in found if c not in off]


_COLUMNS = (
    "idempotency_key, user_id, kind, channel, status, locale, subject, body, params, link, "
    "attempts, last_error, created_at, sent_at"
)
# PostgreSQL takes a chunk as one JSON parameter: a many-row VALUES list of the same rows
# spent more time being parsed by the driver than being inserted.
_PG_INSERT = text(
    f"INSERT INTO notifications ({_COLUMNS}) SELECT {_COLUMNS} "  # noqa: S608 (constants)
    "FROM json_populate_recordset(NULL::notifications, CAST(:rows AS json)) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, status"
)


def _insert(rows: list[dict]) -> list[tuple[int, str]]:
    """Insert rows, skipping those whose key exists; (id, status) of the rows added."""
    if db.session.get_bind().dialect.name == "postgresql":
        data = json.dumps(rows, default=lambda value: value.isoformat())
        return db.session.execute(_PG_INSERT, {"rows": data}).all()
    table = Notification.__table__
    statement = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id, table.c.status)
    )
    return db.session.execute(statement, rows).all()


def _row(draft: Draft, channel: str, now: datetime, templates: dict) -> dict:
    opted_out = draft.kind in ((draft.recipient.prefs or {}).get("kinds_off") or ())
    status = "suppressed" if opted_out else ("sent" if channel == "inapp" else "queued")
    text = draft.text
    return {
        "idempotency_key": f"{draft.kind}:{draft.subject}:{draft.recipient.id}:{channel}",
        "user_id": draft.recipient.id,
        "kind": draft.kind,
        "channel": channel,
        "status": status,
        "locale": locale_of(draft.recipient),
        "subject": text.subject[:200],
        "body": text.body,
        # The WhatsApp template's approved name, from the settings when composed.
        "params": {"template": templates.get(text.template, text.template), "values": text.params},
        "link": text.link[:300],
        "attempts": 0,
        "last_error": "opted out" if opted_out else None,
        "created_at": now,
        "sent_at": now if status == "sent" else None,
    }


def add(drafts: list[Draft], now: datetime) -> tuple[dict[str, int], list]:
    """Insert the drafts' rows (existing keys skipped) and their outbox messages in the
    caller's transaction; (rows added per status, the outbox messages to send after commit)."""
    counts: dict[str, int] = {}
    templates = get_setting("reminders")["whatsapp_templates"]
    rows = [_row(d, channel, now, templates) for d in drafts for channel in channels(d.recipient)]
    queued = []
    for row_id, status in _insert(rows) if rows else ():
        counts[status] = counts.get(status, 0) + 1
        if status == "queued":
            queued.append(row_id)
    return counts, enqueue_deliveries(queued)


def enqueue_deliveries(ids: list[int]) -> list:
    """Outbox messages for the delivery task, BATCH ids each, in the caller's transaction;
    the caller sends them (outbox.send_pending) after its commit."""
    return [outbox.enqueue(DELIVER_TASK, ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]


def store(drafts: Iterable[Draft], now: datetime) -> dict[str, int]:
    """Insert the drafts' rows, queue the deliveries, commit; in chunks, each committed with
    its outbox messages, so memory stays flat.

    Returns how many rows were added per status.
    """
    counts: dict[str, int] = {}
    drafts = iter(drafts)
    while chunk := list(islice(drafts, CHUNK)):
        added, messages = add(chunk, now)
        for status, n in added.items():
            counts[status] = counts.get(status, 0) + n
        db.session.commit()
        outbox.send_pending(messages)
    return counts
