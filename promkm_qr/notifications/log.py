"""The delivery log staff see: every reminder sent, failed, held or suppressed in their scope.

Staff limited to a kecamatan or kelurahan see the reminders of merchants with a stall there;
ASN belong to no area, so their reminders are shown to city-wide staff only (as the roster).
Where the city has no WhatsApp account, a row of the app channel offers a wa.me link with
the same prepared text, so a person can send it by hand.
"""

from urllib.parse import quote

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.extensions import db
from promkm_qr.models import Notification, Stall, User
from promkm_qr.notifications.phones import to_e164

STATUS_LABELS = {
    "queued": _l("Antre"),
    "held": _l("Ditahan (jam tenang)"),
    "sent": _l("Terkirim"),
    "failed": _l("Gagal"),
    "suppressed": _l("Tidak dikirim"),
}


def wa_me_link(phone: str | None, text: str | None) -> str | None:
    """https://wa.me/<number>?text=... for an Indonesian mobile, or None."""
    if not phone or not text:
        return None
    try:
        number = to_e164(phone)
    except ValueError:
        return None
    return f"https://wa.me/{number.lstrip('+')}?text={quote(text)}"


def delivery_log(staff: User, limit: int = 200) -> list[dict]:
    """The newest rows of the staff member's scope, as plain data for the page."""
    query = (
        select(Notification, User.name, User.role, User.phone)
        .join(User, User.id == Notification.user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    ids = scoped_kelurahan_ids(staff)
    if ids is not None:
        owners = select(Stall.owner_id).where(Stall.kelurahan_id.in_(ids))
        query = query.where(Notification.user_id.in_(owners))
    by_hand = not current_app.config.get("WHATSAPP_TOKEN")
    return [
        {
            "created_at": row.created_at,
            "sent_at": row.sent_at,
            "recipient_id": row.user_id,
            "recipient": name,
            "role": role,
            "kind": row.kind,
            "channel": row.channel,
            "status": row.status,
            "attempts": row.attempts,
            "error": row.last_error,
            "wa_me": wa_me_link(phone, row.body)
            if by_hand and row.channel == "inapp" and row.status == "sent"
            else None,
        }
        for row, name, role, phone in db.session.execute(query)
    ]
