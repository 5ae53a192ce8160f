"""What each person chose to receive: kinds of reminder and outward channels they stopped.

The app's own list cannot be stopped (it is where the person reads these choices); a stopped
kind is stopped on every channel, and the rows still appear in the delivery log as suppressed.
"""

import re

from flask_babel import gettext as _
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import User
from promkm_qr.notifications.phones import check_mobile
from promkm_qr.notifications.texts import KINDS_BY_ROLE, kind_label

OUTWARD = ("whatsapp", "email")
# Enough to catch typing slips; the SMTP server is the real judge of an address.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def channel_label(channel: str) -> str:
    """A channel in words."""
    return {"inapp": _("Aplikasi"), "whatsapp": "WhatsApp", "email": _("E-mail")}[channel]


def check_email(text: str) -> str | None:
    """An e-mail address as typed (None when blank); ValueError when it is not one."""
    text = text.strip()
    if not text:
        return None
    if len(text) > 254 or not EMAIL.fullmatch(text):
        raise ValueError(_("Alamat e-mail tidak valid."))
    return text


def check_phone(user_id: int, text: str) -> str | None:
    """A WhatsApp number as typed (None when blank), as stored (08...); ValueError when it is
    not an Indonesian mobile or is another account's."""
    text = text.strip()
    if not text:
        return None
    phone = check_mobile(text)
    other = db.session.scalar(select(User.id).where(User.phone == phone, User.id != user_id))
    if other is not None:
        raise ValueError(_("Nomor HP ini sudah dipakai akun lain."))
    return phone


def choices(user_id: int) -> dict:
    """The kinds and channels with whether each is on, and the e-mail address."""
    user = db.session.get(User, user_id)
    prefs = user.notification_prefs or {}
    kinds_off, channels_off = set(prefs.get("kinds_off", ())), set(prefs.get("channels_off", ()))
    return {
        "email": user.email or "",
        # A merchant's number is their sign-in: it changes through dinas, not here.
        "phone": user.phone or "",
        "phone_editable": user.role != "merchant",
        "kinds": [(k, kind_label(k), k not in kinds_off) for k in KINDS_BY_ROLE[user.role]],
        "channels": [(c, channel_label(c), c not in channels_off) for c in OUTWARD],
    }


def as_sent(found: dict, kinds_on: list[str], channels_on: list[str], typed: dict) -> dict:
    """The choices of `choices()` as the person sent them, for the form shown again after a
    refusal: the boxes as ticked, the address and number as typed (a merchant's number
    stays the one on file)."""
    shown = {
        **found,
        "email": typed["email"],
        "kinds": [(k, label, k in kinds_on) for k, label, _on in found["kinds"]],
        "channels": [(c, label, c in channels_on) for c, label, _on in found["channels"]],
    }
    if found["phone_editable"]:
        shown["phone"] = typed["phone"]
    return shown


def save(
    user_id: int,
    kinds_on: list[str],
    channels_on: list[str],
    email: str | None,
    phone: str | None = None,
) -> None:
    """Store the choices (unknown values ignored), the checked address and, for accounts that
    do not sign in by phone, the checked number; audit the change (the address and number
    themselves stay out of the audit trail)."""
    user = db.session.get(User, user_id)
    new = {
        "kinds_off": sorted(set(KINDS_BY_ROLE[user.role]) - set(kinds_on)),
        "channels_off": sorted(set(OUTWARD) - set(channels_on)),
    }
    old = user.notification_prefs or {"kinds_off": [], "channels_off": []}
    email_changed = user.email != email
    phone_changed = user.role != "merchant" and user.phone != phone
    if old == new and not email_changed and not phone_changed:
        return
    user.notification_prefs, user.email = new, email
    if phone_changed:
        # A new number may be reachable where the old one was refused.
        user.phone, user.whatsapp_refused_at = phone, None
    changes = {"old": old, "new": new, "email_changed": email_changed}
    changes["phone_changed"] = phone_changed
    audit.record("notifications.preferences", "user", user_id, actor_id=user_id, data=changes)
