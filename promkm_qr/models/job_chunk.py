"""Finished chunks of a chunked background job (bulk posters), so reruns skip them."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import utcnow


class JobChunk(db.Model):
    """One finished chunk: its stored part file, how many items it held, the worker's memory."""

    __tablename__ = "job_chunks"
    __table_args__ = (UniqueConstraint("job_id", "index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    index: Mapped[int]
    items: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    # Resident memory of the worker process after the chunk, to show it stays flat.
    worker_pid: Mapped[int | None]
    rss_kb: Mapped[int | None]
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
