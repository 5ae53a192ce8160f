"""Photos received with a report and waiting for the worker to check and re-encode them."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import utcnow

UPLOAD_STATES = ("pending", "done", "failed")


class PhotoUpload(db.Model):
    """The uploaded bytes of a report's photo, kept until the worker has made its Evidence."""

    __tablename__ = "photo_uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("purchase_reports.id"), unique=True)
    # Under a generated name in storage; deleted once the re-encoded evidence is stored.
    upload_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
