"""Column helpers shared by the tables."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now, the storage convention of every timestamp column."""
    return datetime.now(UTC).replace(tzinfo=None)
