"""The append-only audit trail: each entry carries the hash of the one before it.

Entries are appended under a lock taken before the chain's head is read, so two concurrent
writers cannot fork the chain: on PostgreSQL a transaction-scoped advisory lock; on SQLite the
database's write lock, which a write statement takes (SQLite's driver begins a transaction only
at the first write, so a head read before it would see a head another writer is replacing).
`verify_chain` recomputes every hash and names the first entry that does not match.
"""

import hashlib
import json

from sqlalchemy import insert, select, text

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry
from promkm_qr.models.base import utcnow

GENESIS = "0" * 64
_LOCK_ID = 0x50524F4D  # any constant shared by all writers
# Built once: every submission and every flag change appends an entry.
_LOCK = text("SELECT pg_advisory_xact_lock(:id)")
# Changes nothing, but waits for and then holds SQLite's write lock until the commit.
_SQLITE_LOCK = text("UPDATE audit_entries SET id = id WHERE 0")
_LAST_HASH = select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


_ADD = insert(AuditEntry.__table__)
_CHAINED = ("at", "actor_id", "action", "object_type", "object_id", "data")


def _digest(prev_hash: str, entry: dict) -> str:
    """The hash of an entry's content chained to the previous hash."""
    payload = json.dumps(
        [prev_hash, entry["at"].isoformat(), *(entry[name] for name in _CHAINED[1:])],
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
) -> None:
    """Append an entry in the current transaction (committed with the change it records)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_LOCK, {"id": _LOCK_ID})
    else:
        db.session.execute(_SQLITE_LOCK)
    # Flushes the ORM changes of the caller first (autoflush), so they precede the entry.
    prev_hash = db.session.scalar(_LAST_HASH) or GENESIS
    entry = {
        "at": utcnow().replace(microsecond=0),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "data": data,
    }
    # A plain INSERT: the ORM's unit of work cost more than the statement (docs/load.md).
    db.session.execute(_ADD, {**entry, "prev_hash": prev_hash, "hash": _digest(prev_hash, entry)})


def record_personal_view(
    actor_id: int, object_type: str, object_id: int, page: str, shown: dict[str, str]
) -> None:
    """Note that a staff member opened a page with one person's personal data.

    `shown` names each personal field on the page and whether it was "full" or "masked",
    so the trail tells who saw whose NIK or phone number, where, and how much of it.
    """
    record(
        "personal_data.viewed",
        object_type,
        object_id,
        actor_id=actor_id,
        data={"page": page, "shown": shown},
    )


def record_personal_list_view(
    actor_id: int, object_type: str, object_ids: list[int], page: str, shown: dict[str, str]
) -> None:
    """Note that a staff member opened a list showing several people's personal data.

    One entry per page shown, naming every person on it by id: a roster page of fifty ASN
    is one entry, not fifty. An empty list is not recorded (nobody was seen).
    """
    if object_ids:
        record(
            "personal_data.viewed",
            object_type,
            None,
            actor_id=actor_id,
            data={"page": page, "shown": shown, "ids": sorted(set(object_ids))},
        )


def verify_chain() -> int | None:
    """Return the id of the first broken entry, or None when the whole chain holds."""
    prev = GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        content = {name: getattr(entry, name) for name in _CHAINED}
        if entry.prev_hash != prev or _digest(prev, content) != entry.hash:
            return entry.id
        prev = entry.hash
    return None
