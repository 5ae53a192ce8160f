"""Exact dashboard rollups: report counts and rupiah per period and dimension, per state.

Database triggers (migration 0008) append a signed delta row for every change to a report's
amount, state, time, stall, ASN or OPD, and for every move of a stall to another kelurahan or
category, in the writer's own transaction. Rollup rows plus the pending deltas therefore equal
the reports at every moment; a periodic fold moves deltas into the rollups.

A rollup row holds one count and one rupiah column per report state, so the states that count
(a setting) are chosen when reading, and a month of a stall is one row, not one per state.
Keys are plain integers without foreign keys (0 stands for "no OPD" / "no category"): rollups
are derived data, rebuilt from the reports at will.
"""

from datetime import date

from sqlalchemy import BigInteger, Column, Date, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.report import REPORT_STATES


class RollupDelta(db.Model):
    """One report entering (+1, +amount) or leaving (-1, -amount) a rollup cell."""

    __tablename__ = "rollup_deltas"
    __table_args__ = (Index("ix_rollup_deltas_day", "day"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # the WIB day of purchased_at
    kelurahan_id: Mapped[int]
    category_id: Mapped[int]
    stall_id: Mapped[int]
    asn_id: Mapped[int]
    opd_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    count: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


def _rollup_table(name: str, period: str, *keys: str) -> Table:
    """A rollup: period (a WIB day, or a month's first day) and keys, then per state a count
    column `count_<state>` and a rupiah column `amount_<state>`."""
    measures = []
    for state in REPORT_STATES:
        measures.append(Column(f"count_{state}", Integer, nullable=False, default=0))
        measures.append(Column(f"amount_{state}", BigInteger, nullable=False, default=0))
    return Table(
        name,
        db.metadata,
        Column(period, Date, primary_key=True),
        *(Column(key, Integer, primary_key=True, autoincrement=False) for key in keys),
        *measures,
    )


# Totals, areas, days and categories.
rollup_area_days = _rollup_table("rollup_area_days", "day", "kelurahan_id", "category_id")
# Top and idle stalls.
rollup_stall_months = _rollup_table("rollup_stall_months", "month", "stall_id")
# Participation per OPD and quota per ASN, city-wide (the report's OPD, which may differ from
# the ASN's OPD today).
rollup_asn_months = _rollup_table("rollup_asn_months", "month", "asn_id", "opd_id")
# Participation inside a kecamatan or kelurahan; the kelurahan comes second in the key so one
# area's rows of a month are one index range.
rollup_asn_area_months = _rollup_table(
    "rollup_asn_area_months", "month", "kelurahan_id", "asn_id", "opd_id"
)


class ReviewDelta(db.Model):
    """A report's entry in the open review queue appearing (+1) or going (-1), per reason.

    Migration 0009's triggers write these when a report enters or leaves the queue (open and
    flagged: once per flag; disputed: once as "disputed"), when a flag of an open flagged
    report is added or removed, and when a stall moves to another kelurahan.
    """

    __tablename__ = "review_deltas"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kelurahan_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))  # a flag rule, or "disputed"
    count: Mapped[int]


# The open review queue per kelurahan and reason (no period: the queue is "now").
rollup_review = Table(
    "rollup_review",
    db.metadata,
    Column("kelurahan_id", Integer, primary_key=True, autoincrement=False),
    Column("reason", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
)
