"""Clients of the open API: other city systems holding a bearer token."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from promkm_qr.extensions import db
from promkm_qr.models.base import utcnow


class ApiClient(db.Model):
    """A system allowed to call /api/v1 with the scopes it was given.

    Only the SHA-256 of the token is kept: the token has 256 bits of randomness, so a
    plain digest cannot be guessed back, and lookup stays one indexed equality.
    """

    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The token's first characters, shown in the list so an admin can tell tokens apart.
    token_prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    # Set for a client of one OPD: it sees only that OPD's ASN and reports.
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
