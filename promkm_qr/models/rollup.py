"""Exact dashboard rollups: report counts and rupiah per period, dimension and state.

Database triggers (migration 0008) append a signed delta row for every change to a report's
amount, state, time, stall, ASN or OPD, and for every move of a stall to another kelurahan or
category, in the writer's own transaction. Rollup rows plus the pending deltas therefore equal
the reports at every moment; a periodic fold moves deltas into the rollups. Keys are plain
integers without foreign keys (0 stands for "no OPD" / "no category"): rollups are derived
data, rebuilt from the reports at will.
"""

from datetime import date

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db


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


class RollupAreaDay(db.Model):
    """Per WIB day, kelurahan, stall category and state: totals, areas, days, categories."""

    __tablename__ = "rollup_area_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kelurahan_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class RollupStallMonth(db.Model):
    """Per WIB month (its first day), stall and state: top and idle stalls."""

    __tablename__ = "rollup_stall_months"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    stall_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class RollupAsnMonth(db.Model):
    """Per WIB month, ASN, the report's OPD and state: participation and quota, city-wide."""

    __tablename__ = "rollup_asn_months"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    asn_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    opd_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class RollupAsnAreaMonth(db.Model):
    """As RollupAsnMonth, split by kelurahan: participation inside a kecamatan or kelurahan."""

    __tablename__ = "rollup_asn_area_months"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    # Second in the key so one area's rows of a month are one index range.
    kelurahan_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    asn_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    opd_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
