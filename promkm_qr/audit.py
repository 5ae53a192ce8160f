"""The append-only audit trail: each entry carries the hash of the one before it.

Entries are appended under a lock (a PostgreSQL advisory lock; SQLite serialises writers
anyway) so two concurrent writers cannot fork the chain. `verify_chain` recomputes every
hash and names the first entry that does not match.
"""

import hashlib
import json

from sqlalchemy import select, text

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry
from promkm_qr.models.base import utcnow

GENESIS = "0" * 64
_LOCK_ID = 0x50524F4D  # any constant shared by all writers
# Built once: every submission and every flag change appends an entry.
_LOCK = text("SELECT pg_advisory_xact_lock(:id)")
_LAST_HASH = select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    """The hash of an entry's content chained to the previous hash."""
    payload = json.dumps(
        [
            prev_hash,
            entry.at.isoformat(),
            entry.actor_id,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.data,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    action: str,
    object_type: str,
    object_id,
    *,
    actor_id: int | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Append an entry in the current transaction (committed with the change it records)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_LOCK, {"id": _LOCK_ID})
    last = db.session.scalar(_LAST_HASH)
    entry = AuditEntry(
        at=utcnow().replace(microsecond=0),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        data=data,
        prev_hash=last or GENESIS,
    )
    entry.hash = _digest(entry.prev_hash, entry)
    db.session.add(entry)
    db.session.flush()
    return entry


def record_personal_view(
    actor_id: int, object_type: str, object_id: int, page: str, shown: dict[str, str]
) -> AuditEntry:
    """Note that a staff member opened a page with one person's personal data.

    `shown` names each personal field on the page and whether it was "full" or "masked",
    so the trail tells who saw whose NIK or phone number, where, and how much of it.
    """
    return record(
        "personal_data.viewed",
        object_type,
        object_id,
        actor_id=actor_id,
        data={"page": page, "shown": shown},
    )


def verify_chain() -> int | None:
    """Return the id of the first broken entry, or None when the whole chain holds."""
    prev = GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev or _digest(prev, entry) != entry.hash:
            return entry.id
        prev = entry.hash
    return None
