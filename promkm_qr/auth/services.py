"""Accounts: who a sign-in identifier names, password checks and account creation."""

import functools
import secrets
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from promkm_qr import audit
from promkm_qr.accounts import sessions
from promkm_qr.accounts.passwords import check_new_password
from promkm_qr.core.nik import normalize_phone
from promkm_qr.core.nip import InvalidNip, parse_nip
from promkm_qr.core.text import check_text
from promkm_qr.extensions import db
from promkm_qr.models import User
from promkm_qr.models.base import utcnow

HOME_ENDPOINTS = {"asn": "asn.home", "merchant": "merchant.home", "dinas": "dinas.home"}


class LoginError(Exception):
    """A refused sign-in, with the message to show and the HTTP status to answer."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.message = message
        self.status = status


def load_user(token: str) -> User | None:
    """Flask-Login loader: the token is "id:session_version"; the session row decides the rest."""
    user_id, _sep, version = token.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    return sessions.check(int(user_id), int(version))


def normalize_identifier(role: str, identifier: str) -> str:
    """Turn what a person typed into the stored login key for that role."""
    text = identifier.strip()
    if role == "asn":
        try:
            return parse_nip(text).digits
        except InvalidNip as exc:
            raise LoginError(str(exc), 400) from exc
    if role == "merchant":
        try:
            return normalize_phone(text)
        except ValueError as exc:
            raise LoginError(str(exc), 400) from exc
    if role == "dinas":
        return text.lower()
    raise LoginError(_("Peran tidak dikenal."), 400)


def find_account(role: str, key: str) -> User | None:
    """The account of that role with that login key, if any."""
    column = {"asn": User.nip, "merchant": User.phone, "dinas": User.username}[role]
    return db.session.scalar(select(User).where(column == key, User.role == role))


def authenticate(role: str, identifier: str, password: str) -> User:
    """Return the account if the password matches; otherwise raise LoginError.

    An unknown account, one still waiting for activation and a wrong password get the same
    answer after the same work; only the right password learns that an account is inactive.
    """
    key = normalize_identifier(role, identifier)
    user = find_account(role, key)
    stored = user.password_hash if user is not None else None
    if not check_password_hash(stored or dummy_hash(), password) or stored is None:
        raise LoginError(_("NIP/nomor HP/nama pengguna atau kata sandi salah."))
    if not user.active:
        raise LoginError(_("Akun ini tidak aktif. Hubungi petugas dinas."), 403)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def hash_password(password: str) -> str:
    """Werkzeug's salted scrypt hash."""
    return generate_password_hash(password)


@functools.cache
def dummy_hash() -> str:
    """A hash to check unknown accounts against, made on first use (scrypt is slow)."""
    return hash_password(secrets.token_hex(8))


def check_account_password(user: User, password: str) -> None:
    """Raise WeakPassword unless password meets the rules for this account."""
    check_new_password(password, user.nip, user.phone, user.username)


def set_password(user: User, password: str) -> None:
    """Store a new password (WeakPassword if refused) and end every other session."""
    check_account_password(user, password)
    store_password(user, password)


def store_password(user: User, password: str) -> None:
    """Store a password already checked by the caller, end every other session and commit."""
    user.password_hash = hash_password(password)
    user.activation_code_hash = None
    user.activation_expires_at = None
    user.session_version += 1
    db.session.commit()


def change_own_password(user: User, password: str) -> None:
    """A signed-in person sets a new password: recorded in the audit trail."""
    check_account_password(user, password)  # before anything is recorded
    audit.record("account.password_changed", "user", user.id, actor_id=user.id)
    store_password(user, password)


def create_user(role: str, name: str, identifier: str, password: str | None, **fields) -> User:
    """Create an account; the identifier is validated as that role's login key."""
    key = normalize_identifier(role, identifier)
    check_text(name)
    column = {"asn": "nip", "merchant": "phone", "dinas": "username"}[role]
    user = User(role=role, name=name, **{column: key}, **fields)
    if role == "merchant" and "phone" not in fields:
        user.phone = key
    if password:
        check_account_password(user, password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def safe_next(target: str | None) -> str | None:
    """Keep a next= redirect only when it stays on this site (a path, no host, no scheme)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def check_password(user: User, password: str) -> bool:
    """Whether password is the account's current password."""
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)
