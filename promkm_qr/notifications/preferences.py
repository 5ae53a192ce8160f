"""What each person chose to receive: kinds of reminder and outward channels they stopped.

The app's own list cannot be stopped (it is where the person reads these choices); a stopped
kind is stopped on every channel, and the rows still appear in the delivery log as suppressed.
"""

import re

from flask_babel import gettext as _

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import User
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


def choices(user_id: int) -> dict:
    """The kinds and channels with whether each is on, and the e-mail address."""
    user = db.session.get(User, user_id)
    prefs = user.notification_prefs or {}
    kinds_off, channels_off = set(prefs.get("kinds_off", ())), set(prefs.get("channels_off", ()))
    return {
        "email": user.email or "",
        "kinds": [(k, kind_label(k), k not in kinds_off) for k in KINDS_BY_ROLE[user.role]],
        "channels": [(c, channel_label(c), c not in channels_off) for c in OUTWARD],
    }


def save(user_id: int, kinds_on: list[str], channels_on: list[str], email: str | None) -> None:
    """Store the choices (unknown values ignored) and the checked address; audit the change
    (the address itself stays out of the audit trail)."""
    user = db.session.get(User, user_id)
    new = {
        "kinds_off": sorted(set(KINDS_BY_ROLE[user.role]) - set(kinds_on)),
        "channels_off": sorted(set(OUTWARD) - set(channels_on)),
    }
    old = user.notification_prefs or {"kinds_off": [], "channels_off": []}
    email_changed = user.email != email
    if old == new and not email_changed:
        return
    user.notification_prefs, user.email = new, email
    changes = {"old": old, "new": new, "email_changed": email_changed}
    audit.record("notifications.preferences", "user", user_id, actor_id=user_id, data=changes)
