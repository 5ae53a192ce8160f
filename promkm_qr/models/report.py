"""Purchase reports, their photo evidence, state history and flags."""

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promkm_qr.extensions import db
from promkm_qr.models.base import at_least, one_of, utcnow
from promkm_qr.models.stall import Stall

# submitted -> confirmed | disputed (merchant) -> verified | rejected (dinas);
# withdrawn by the ASN while still submitted.
REPORT_STATES = ("submitted", "confirmed", "disputed", "verified", "rejected", "withdrawn")
PAYMENT_METHODS = ("tunai", "qris", "transfer")
# States still awaiting a dinas decision: decided reports leave the review queue, and a
# withdrawn one never needs review.
OPEN_STATES = ("submitted", "confirmed", "disputed")
OPEN_STATES_SQL = "(" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"
# Reports awaiting a dinas decision because a rule flagged them or the merchant disputed them.
OPEN_REVIEW = f"state IN {OPEN_STATES_SQL} AND (flagged OR state = 'disputed')"


class Evidence(db.Model):
    """A re-encoded photo of the goods or the nota, with hashes for duplicate checks."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[str] = mapped_column(String(32), index=True)
    width: Mapped[int]
    height: Mapped[int]
    taken_at: Mapped[datetime | None]
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the retention period removed the photo files; the hashes stay for duplicate checks.
    purged_at: Mapped[datetime | None]


class PurchaseReport(db.Model):
    """One purchase an ASN reports at a stall."""

    __tablename__ = "purchase_reports"
    __table_args__ = (
        Index("ix_purchase_reports_stall_time", "stall_id", "purchased_at"),
        Index("ix_purchase_reports_asn_time", "asn_id", "purchased_at"),
        Index("ix_purchase_reports_state_time", "state", "purchased_at"),
        # Dashboard panels read a period's rows from this index alone (PostgreSQL
        # index-only scans), never touching the wide table rows.
        Index(
            "ix_purchase_reports_time_cover",
            "purchased_at",
            postgresql_include=["state", "amount", "stall_id", "opd_id", "asn_id"],
        ),
        # The open review queue: a small slice of a large table, counted from the index alone.
        Index(
            "ix_purchase_reports_open_review",
            "stall_id",
            postgresql_where=text(OPEN_REVIEW),
            sqlite_where=text(OPEN_REVIEW),
            postgresql_include=["id", "state", "flagged"],
        ),
        one_of("state", REPORT_STATES),
        at_least("amount", 1),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # One-time key carried by the form: a resend of the same form records nothing new.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    asn_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id"), index=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"))
    amount: Mapped[int]
    goods_category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300), default="")
    payment_method: Mapped[str] = mapped_column(String(16), default="tunai")
    purchased_at: Mapped[datetime]
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    flagged: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    stall: Mapped[Stall] = relationship()
    asn: Mapped["User"] = relationship()  # noqa: F821
    evidence: Mapped[Evidence | None] = relationship()
    flags: Mapped[list["ReportFlag"]] = relationship(back_populates="report")
    transitions: Mapped[list["ReportTransition"]] = relationship(
        back_populates="report", order_by="ReportTransition.id"
    )


class ReportTransition(db.Model):
    """One step in a report's history: who moved it, from which state, when and why."""

    __tablename__ = "report_transitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("purchase_reports.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[PurchaseReport] = relationship(back_populates="transitions")


class ReportFlag(db.Model):
    """A rule that found something odd about a report, explained in words."""

    __tablename__ = "report_flags"
    __table_args__ = (UniqueConstraint("report_id", "rule"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("purchase_reports.id"), index=True)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[PurchaseReport] = relationship(back_populates="flags")
