"""One-time activation codes: how an ASN or a merchant without a password gets in.

Staff hand the code over out of band (the roster import's file for new ASN, the access reset
page for anyone). Only a hash is stored; the code works once, until it expires, and a
used or expired code is removed. Until a valid code is shown, an account that is waiting for
activation is answered exactly like one that does not exist.
"""

import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update
from werkzeug.security import check_password_hash

from promkm_qr import audit
from promkm_qr.auth.services import (
    LoginError,
    check_account_password,
    dummy_hash,
    find_account,
    normalize_identifier,
    store_password,
)
from promkm_qr.extensions import db
from promkm_qr.models import Job, User
from promkm_qr.models.base import utcnow
from promkm_qr.notifications.phones import check_mobile
from promkm_qr.reference import get_setting
from promkm_qr.storage import get_storage

# The bounds an admin may set the validity period within (the setting activation_code_days).
VALID_DAYS_RANGE = (1, 90)
ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B: read out loud safely
LENGTH = 10  # 26**10 is about 2**47, against 8 tries a minute per account
PREFIX = "hmac-sha256$"


def valid_days() -> int:
    """How many days a new code stays valid, as the admin set it."""
    return int(get_setting("activation_code_days"))


def new_code() -> str:
    """A random code, grouped for reading aloud: "K7QX-MP3R-TA"."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def _canonical(code: str) -> str:
    """What was typed, without spaces and dashes, in capitals."""
    return "".join(code.split()).replace("-", "").upper()


def _digest(user_id: int, code: str) -> str:
    """A keyed hash of one account's code.

    A code is random and short-lived, so a fast HMAC keyed by the app's secret is enough
    (and a roster of 6,000 new ASN is not held up for half an hour by scrypt): without the
    secret, a copy of the database does not let anyone test codes offline.
    """
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    key = hmac.digest(secret, b"promkm activation code", "sha256")
    mac = hmac.digest(key, f"{user_id}:{_canonical(code)}".encode(), "sha256")
    return PREFIX + mac.hex()


def issue_code(user: User) -> str:
    """Give the account a fresh code (replacing any earlier one); returns it to hand over."""
    if user.id is None:
        db.session.flush()
    code = new_code()
    user.activation_code_hash = _digest(user.id, code)
    user.activation_expires_at = utcnow() + timedelta(days=valid_days())
    return code


def _code_matches(user: User | None, code: str) -> bool:
    """Whether code is the account's code, after the same work whatever the account.

    Codes issued before migration 0011 are werkzeug hashes; every check runs one of those
    (against a dummy when there is none), so timing does not tell which kind is stored.
    """
    stored = user.activation_code_hash if user is not None else None
    legacy = stored if stored and not stored.startswith(PREFIX) else None
    legacy_ok = check_password_hash(legacy or dummy_hash(), _canonical(code))
    mac = _digest(user.id if user is not None else 0, code)
    return (legacy is not None and legacy_ok) or (
        stored is not None and hmac.compare_digest(stored, mac)
    )


def _clear_code(user: User) -> None:
    user.activation_code_hash = None
    user.activation_expires_at = None


def activate(role: str, identifier: str, code: str, password: str) -> User:
    """Set the password of an ASN (NIP) or merchant (phone) who shows a valid code."""
    key = normalize_identifier(role, identifier)
    if role == "merchant":
        # Activation is where a merchant's number is first typed by its owner.
        try:
            check_mobile(identifier)
        except ValueError as exc:
            raise LoginError(str(exc), 400) from exc
    user = find_account(role, key) if role in ("asn", "merchant") else None
    stored = user.activation_code_hash if user is not None else None
    matches = _code_matches(user, code)
    expired = (
        stored is not None
        and user.activation_expires_at is not None
        and user.activation_expires_at < utcnow()
    )
    if expired:
        _clear_code(user)  # an expired code is gone
        db.session.commit()
    if stored is None or expired or not matches:
        if role == "merchant":
            raise LoginError(_("Nomor HP atau kode aktivasi salah."))
        raise LoginError(_("NIP atau kode aktivasi salah."))
    if not user.active:
        raise LoginError(_("Akun ini tidak aktif. Hubungi petugas dinas."), 403)
    check_account_password(user, password)  # refused: the code stays valid for another try
    audit.record("account.activated", "user", user.id, actor_id=user.id, data={"role": role})
    store_password(user, password)  # clears the code and commits
    return user


def reset_access(user: User, actor_id: int) -> str:
    """Staff reset: password removed, every session ended, a new code issued (caller commits)."""
    user.password_hash = None
    user.session_version += 1
    code = issue_code(user)
    audit.record(
        "account.access_reset",
        "user",
        user.id,
        actor_id=actor_id,
        data={"role": user.role, "code_expires": user.activation_expires_at.isoformat()},
    )
    return code


def take_codes_file(job: Job, actor_id: int) -> bytes | None:
    """The codes file of a roster import, handed out once: read, then deleted from storage.

    The job row is claimed with a conditional UPDATE, so two downloads at the same moment
    cannot both get the file. None when it was already downloaded, expired or voided.
    """
    key = job.result_key
    if not key:
        return None
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.result_key == key)
        .values(
            result_key=None,
            params={
                **(job.params or {}),
                "codes_taken_at": utcnow().isoformat(),
                "codes_taken_by": actor_id,
            },
        )
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    storage = get_storage()
    data = storage.get(key) if storage.exists(key) else None
    audit.record("roster.codes_downloaded", "job", job.id, actor_id=actor_id)
    db.session.commit()
    storage.delete(key)
    return data


def codes_file_state(job: Job) -> dict:
    """What happened to a roster import's codes file, for its job page."""
    params = job.params or {}
    taken_by = params.get("codes_taken_by")
    return {
        "available": bool(job.result_key),
        "taken_at": _parse_time(params.get("codes_taken_at")),
        "taken_by": db.session.get(User, taken_by).name if taken_by else None,
        "expired_at": _parse_time(params.get("codes_expired_at")),
    }


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def sweep_expired() -> int:
    """Remove expired codes and the code files of roster imports older than a code lives."""
    now = utcnow()
    cleared = db.session.execute(
        update(User)
        .where(User.activation_expires_at < now)
        .values(activation_code_hash=None, activation_expires_at=None)
    ).rowcount
    stale = db.session.scalars(
        db.select(Job).where(
            Job.kind == "roster_import",
            Job.result_key.is_not(None),
            Job.finished_at < now - timedelta(days=valid_days()),
        )
    ).all()
    keys = []
    for job in stale:
        keys.append(job.result_key)
        job.params = {**(job.params or {}), "codes_expired_at": now.isoformat()}
        job.result_key = None
    db.session.commit()
    for key in keys:
        get_storage().delete(key)
    return cleared
