"""Accounts of the three roles, the ASN roster and the quota rules."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promkm_qr.extensions import db
from promkm_qr.models.base import at_least, utcnow

ROLES = ("asn", "merchant", "dinas")
STAFF_ROLES = ("admin", "operator", "reviewer", "viewer")


class Opd(db.Model):
    """A government unit (Organisasi Perangkat Daerah) that ASN belong to."""

    __tablename__ = "opd"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class User(UserMixin, db.Model):
    """A person who signs in: an ASN by NIP, a merchant by phone, staff by username."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    nip: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    # None until the first sign-in sets it (ASN imported from the roster).
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # Hash of the one-time code an ASN or merchant uses to set a password (first sign-in or
    # after staff reset their access); the code itself is never stored.
    activation_code_hash: Mapped[str | None] = mapped_column(String(256))
    activation_expires_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change or deactivation, which ends every other session.
    session_version: Mapped[int] = mapped_column(default=1)
    staff_role: Mapped[str | None] = mapped_column(String(16))
    scope_kecamatan_id: Mapped[int | None] = mapped_column(ForeignKey("kecamatan.id"))
    scope_kelurahan_id: Mapped[int | None] = mapped_column(ForeignKey("kelurahan.id"))
    # Second factor of staff: the TOTP secret once enrolled, the last time step accepted (a code
    # is refused when its step is not newer) and the hashes of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    recovery_code_hashes: Mapped[list | None] = mapped_column(JSON)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Reminders (promkm_qr.notifications): an e-mail address, the kinds and channels the person
    # stopped ({"kinds_off": [...], "channels_off": [...]}), and when WhatsApp refused the
    # phone number (no more WhatsApp messages until the number changes).
    email: Mapped[str | None] = mapped_column(String(254))
    notification_prefs: Mapped[dict | None] = mapped_column(JSON)
    whatsapp_refused_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    asn: Mapped["AsnProfile | None"] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses sessions of deactivated accounts."""
        return self.active

    def get_id(self) -> str:
        """Session token: the id plus the session version, so old sessions stop working."""
        return f"{self.id}:{self.session_version}"


class AsnProfile(db.Model):
    """The roster entry of an ASN (from the BKPSDM export)."""

    __tablename__ = "asn_profiles"
    __table_args__ = (at_least("tpp_amount", 0),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id"), index=True)
    position_class: Mapped[str] = mapped_column(String(32), default="pelaksana")
    golongan: Mapped[str | None] = mapped_column(String(8))
    tpp_amount: Mapped[int | None]
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    on_roster: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="asn")
    opd: Mapped[Opd | None] = relationship()


class QuotaRule(db.Model):
    """Monthly minimum per position class: a fixed amount, or a TPP share with a floor."""

    __tablename__ = "quota_rules"
    __table_args__ = (at_least("amount", 0),)
    id: Mapped[int] = mapped_column(primary_key=True)
    position_class: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="fixed")  # fixed | tpp_share
    amount: Mapped[int] = mapped_column(default=0)
    tpp_share_pct: Mapped[int | None]
