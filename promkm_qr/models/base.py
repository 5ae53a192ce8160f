"""Column helpers shared by the tables."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint

from promkm_qr.core.dates import naive_utc


def utcnow() -> datetime:
    """Naive UTC now, the storage convention of every timestamp column.

    Without arguments on purpose: a column default that takes one is handed SQLAlchemy's
    execution context.
    """
    return naive_utc()


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """A CHECK that a state column holds one of the states the code knows, named after the
    column (ck_<table>_<column>, by the naming convention); migration 0012 adds them."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def at_least(column: str, low: int) -> CheckConstraint:
    """A CHECK that a number column is at least `low` (NULL passes: the column may be unset)."""
    return CheckConstraint(f"{column} >= {low}", name=column)
