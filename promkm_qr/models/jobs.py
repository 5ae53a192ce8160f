"""Background jobs, generated documents, the task outbox and editable settings."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import one_of, utcnow

JOB_STATES = ("queued", "running", "done", "failed")
# pending until a batch plans it, queued for a chunk task, then done or failed.
DOCUMENT_STATES = ("pending", "queued", "done", "failed")


class Job(db.Model):
    """A background job a person started, with progress for the progress bar."""

    __tablename__ = "jobs"
    __table_args__ = (one_of("state", JOB_STATES),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    result_key: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Document(db.Model):
    """A generated PDF, one row per (kind, subject, period): reruns replace, never duplicate."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "period"),
        one_of("state", DOCUMENT_STATES),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    storage_key: Mapped[str | None] = mapped_column(String(200))
    checksum: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int | None]
    size: Mapped[int | None]
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    generated_at: Mapped[datetime | None]


class OutboxMessage(db.Model):
    """A task to send to the broker, written in the same transaction as the change."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Setting(db.Model):
    """An editable setting (thresholds, counted states, branding) stored as JSON."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
