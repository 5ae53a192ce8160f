"""Administrative regions, loaded from a CSV so another city can load its own."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promkm_qr.extensions import db


class Kecamatan(db.Model):
    """A district (kecamatan) of the city, e.g. 35.77.01 Kartoharjo."""

    __tablename__ = "kecamatan"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kelurahan: Mapped[list["Kelurahan"]] = relationship(
        back_populates="kecamatan", order_by="Kelurahan.code"
    )


class Kelurahan(db.Model):
    """A village-level unit (kelurahan) with its Kemendagri code, e.g. 35.77.01.1001."""

    __tablename__ = "kelurahan"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kecamatan_id: Mapped[int] = mapped_column(ForeignKey("kecamatan.id"), index=True)
    kecamatan: Mapped[Kecamatan] = relationship(back_populates="kelurahan")

    @property
    def code_digits(self) -> str:
        """The code without dots, the prefix of every stall code in this kelurahan."""
        return self.code.replace(".", "")
