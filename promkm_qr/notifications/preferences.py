"""What each person chose to receive: kinds of reminder and outward channels they stopped.

The app's own list cannot be stopped (it is where the person reads these choices); a stopped
kind is stopped on every channel, and the rows still appear in the delivery log as suppressed.
"""

from flask_babel import gettext as _

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import User
from promkm_qr.notifications.texts import KINDS, kind_label

OUTWARD = ("whatsapp", "email")


def channel_label(channel: str) -> str:
    """A channel in words."""
    return {"inapp": _("Aplikasi"), "whatsapp": "WhatsApp", "email": _("E-mail")}[channel]


def choices(user_id: int) -> dict:
    """The kinds and channels with whether each is on, for the preferences page."""
    prefs = db.session.get(User, user_id).notification_prefs or {}
    kinds_off, channels_off = set(prefs.get("kinds_off", ())), set(prefs.get("channels_off", ()))
    return {
        "kinds": [(k, kind_label(k), k not in kinds_off) for k in KINDS],
        "channels": [(c, channel_label(c), c not in channels_off) for c in OUTWARD],
    }


def save(user_id: int, kinds_on: list[str], channels_on: list[str]) -> None:
    """Store the choices (unknown values ignored); audit the change."""
    user = db.session.get(User, user_id)
    new = {
        "kinds_off": sorted(set(KINDS) - set(kinds_on)),
        "channels_off": sorted(set(OUTWARD) - set(channels_on)),
    }
    old = user.notification_prefs or {"kinds_off": [], "channels_off": []}
    if old == new:
        return
    user.notification_prefs = new
    changes = {"old": old, "new": new}
    audit.record("notifications.preferences", "user", user_id, actor_id=user_id, data=changes)
