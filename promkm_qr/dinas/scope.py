"""Staff scope: a staff account may be limited to one kecamatan or one kelurahan.

Every list, count, chart and export of the dinas workspace filters through these helpers.
"""

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Kelurahan, User


def scoped_kelurahan_ids(user: User) -> list[int] | None:
    """The kelurahan a staff member may see, or None for the whole city."""
    if user.scope_kelurahan_id:
        return [user.scope_kelurahan_id]
    if user.scope_kecamatan_id:
        return list(
            db.session.scalars(
                select(Kelurahan.id).where(Kelurahan.kecamatan_id == user.scope_kecamatan_id)
            )
        )
    return None


def apply_scope(query, kelurahan_column, user: User):
    """Restrict a SELECT to the user's kelurahan (no-op for city-wide staff)."""
    ids = scoped_kelurahan_ids(user)
    return query if ids is None else query.where(kelurahan_column.in_(ids))
