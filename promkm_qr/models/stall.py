"""Stalls, their categories and the history of their QR posters."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promkm_qr.extensions import db
from promkm_qr.models.base import one_of, utcnow
from promkm_qr.models.region import Kelurahan

STALL_STATES = ("pending", "active", "suspended")


class Category(db.Model):
    """A kind of business (kuliner, sembako, ...), a list dinas can edit."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Stall(db.Model):
    """A registered UMKM stall; its code is printed under the QR for manual entry."""

    __tablename__ = "stalls"
    __table_args__ = (one_of("status", STALL_STATES),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kelurahan_id: Mapped[int] = mapped_column(ForeignKey("kelurahan.id"), index=True)
    serial: Mapped[int]
    name: Mapped[str] = mapped_column(String(200), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    photo_key: Mapped[str | None] = mapped_column(String(200))
    nib: Mapped[str | None] = mapped_column(String(13))
    owner_nik: Mapped[str | None] = mapped_column(String(16), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    qris_nmid: Mapped[str | None] = mapped_column(String(20), unique=True)
    qris_payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    poster_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    kelurahan: Mapped[Kelurahan] = relationship()
    category: Mapped[Category | None] = relationship()
    owner: Mapped["User | None"] = relationship()  # noqa: F821


class PosterPrint(db.Model):
    """Who printed which poster version of a stall, and when."""

    __tablename__ = "poster_prints"
    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stalls.id"), index=True)
    version: Mapped[int]
    format: Mapped[str] = mapped_column(String(16))
    printed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    job_id: Mapped[str | None] = mapped_column(String(36))
    printed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefusedScan(db.Model):
    """A QR link that was refused (forged, tampered, revoked or suspended)."""

    __tablename__ = "refused_scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    token: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))
    stall_id: Mapped[int | None] = mapped_column(ForeignKey("stalls.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client: Mapped[str | None] = mapped_column(String(64))
