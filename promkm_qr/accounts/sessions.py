"""Signed-in sessions: begun at sign-in, checked on every request, listed and ended by their owner.

Each sign-in gets a row in user_sessions and a random token in the browser's signed cookie.
A request is signed in only while its row is not ended, belongs to the account's current
session version, and is within both limits: idle (time since the last request) and absolute
(time since sign-in). Staff limits are settings (defaults 30 minutes and 12 hours); ASN and
merchants sign in on their own phones and keep a session for days (README, "Sessions").
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import flash, request, session
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from promkm_qr import audit
from promkm_qr.accounts.devices import device_summary, mask_address
from promkm_qr.extensions import db
from promkm_qr.models import Setting, User, UserSession
from promkm_qr.models.base import utcnow
from promkm_qr.reference import get_setting, with_default

COOKIE_KEY = "sid"  # where the browser's session token sits in its signed cookie
# last_seen_at is written at most this often: idle time is known to the minute, and a page
# that makes several requests costs one write, not one per request.
TOUCH_EVERY = timedelta(minutes=1)
MEMBER_IDLE = timedelta(days=7)
MEMBER_LIFETIME = timedelta(days=30)
# The staff limits an admin may set: (key of the "sessions" setting, smallest, largest).
STAFF_LIMITS = (("staff_idle_minutes", 5, 240), ("staff_absolute_hours", 1, 24))
# What Flask-Login keeps in the cookie for a signed-in browser, dropped with a refused session.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", COOKIE_KEY)
# Built once: every signed-in request runs it. The staff limits come with the row, so a staff
# request costs one query as others do rather than a read of all settings besides.
_BY_TOKEN = (
    select(
        UserSession,
        User,
        select(Setting.value).where(Setting.key == "sessions").scalar_subquery(),
    )
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("digest"))
)


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True)
class SessionRow:
    """One live session as its owner's page shows it."""

    id: int
    device: str
    client: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


def limits(role: str, staff_values: dict | None = None) -> Limits:
    """The idle and absolute limits of a role's sessions (staff's from the setting, unless
    the caller read it already)."""
    if role != "dinas":
        return Limits(MEMBER_IDLE, MEMBER_LIFETIME)
    values = staff_values or get_setting("sessions")
    return Limits(
        timedelta(minutes=values["staff_idle_minutes"]),
        timedelta(hours=values["staff_absolute_hours"]),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current_digest() -> str | None:
    token = session.get(COOKIE_KEY)
    return _digest(token) if isinstance(token, str) else None


def _why_over(row: UserSession, limit: Limits, now: datetime) -> str | None:
    """ "idle" or "lifetime" when the session is past a limit, else None."""
    if now - row.created_at >= limit.lifetime:
        return "lifetime"
    if now - row.last_seen_at >= limit.idle:
        return "idle"
    return None


def begin(user: User) -> None:
    """After a sign-in: a new row and token for this browser, ending the one it held before."""
    now = utcnow()
    end_current(now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            version=user.session_version,
            created_at=now,
            last_seen_at=now,
            device=device_summary(request.user_agent.string),
            client=mask_address(request.remote_addr),
        )
    )
    db.session.commit()
    session[COOKIE_KEY] = token
    # A staff session also ends when the browser closes (office computers are shared); ASN
    # and merchants keep theirs on their own phones, up to the limits above.
    session.permanent = user.role != "dinas"


def end_current(now: datetime | None = None) -> None:
    """Sign-out: end this browser's row (if any) and forget its token."""
    digest = _current_digest()
    session.pop(COOKIE_KEY, None)
    if digest is not None:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == digest, UserSession.ended_at.is_(None))
            .values(ended_at=now or utcnow())
        )
        db.session.commit()


def check(user_id: int, version: int) -> User | None:
    """The account of this request's session, or None (with the reason shown) if it is over.

    One query per request; last_seen_at is written at most once a minute, on a connection of
    its own so the write never commits (or waits on) what the request is doing.
    """
    digest = _current_digest()
    found = None
    if digest is not None:
        found = db.session.execute(_BY_TOKEN, {"digest": digest}).first()
    now = utcnow()
    row, user, staff_setting = found if found is not None else (None, None, None)
    if (
        user is None
        or user.id != user_id
        or row.ended_at is not None
        or version != user.session_version
        or row.version != user.session_version
        or not user.active
    ):
        _refuse("ended", row, None, now)
        return None
    limit = limits(user.role, with_default("sessions", staff_setting))
    reason = _why_over(row, limit, now)
    if reason is not None:
        _refuse(reason, row, limit, now)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        _write(row.id, last_seen_at=now)
    return user


def _write(row_id: int, **values) -> None:
    with db.engine.begin() as connection:
        connection.execute(update(UserSession).where(UserSession.id == row_id).values(**values))


def _refuse(reason: str, row: UserSession | None, limit: Limits | None, now: datetime) -> None:
    """Sign this browser out and say why, once (the cookie no longer names the account)."""
    if row is not None and row.ended_at is None:
        _write(row.id, ended_at=now)
    for key in _LOGIN_KEYS:
        session.pop(key, None)
    if reason == "idle":
        minutes = int(limit.idle.total_seconds() // 60)
        message = _(
            "Sesi Anda berakhir karena tidak ada aktivitas selama %(n)s menit. Silakan masuk lagi.",
            n=minutes,
        )
    elif reason == "lifetime":
        hours = int(limit.lifetime.total_seconds() // 3600)
        message = _(
            "Sesi Anda berakhir karena sudah berlangsung %(n)s jam. Silakan masuk lagi.", n=hours
        )
    else:
        message = _("Sesi Anda sudah diakhiri. Silakan masuk lagi.")
    flash(message, "info")


def live_sessions(user: User) -> list[SessionRow]:
    """The account's sessions still in force, this browser's first, then the latest used."""
    now = utcnow()
    digest = _current_digest()
    limit = limits(user.role)
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .where(UserSession.ended_at.is_(None))
        .where(UserSession.version == user.session_version)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    shown = [
        SessionRow(
            id=row.id,
            device=row.device,
            client=row.client,
            created_at=row.created_at,
            # This request is this session's latest use, whatever the minute-old row says.
            last_seen_at=now if row.token_hash == digest else row.last_seen_at,
            current=row.token_hash == digest,
        )
        for row in rows
        if _why_over(row, limit, now) is None
    ]
    return sorted(shown, key=lambda s: not s.current)


def end_others(user: User) -> int:
    """End every session of the account but this browser's; how many were in force."""
    count = sum(1 for row in live_sessions(user) if not row.current)
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .where(UserSession.ended_at.is_(None))
        .where(UserSession.token_hash != (_current_digest() or ""))
        .values(ended_at=utcnow())
    )
    audit.record("account.sessions_ended", "user", user.id, actor_id=user.id, data={"count": count})
    db.session.commit()
    return count
