"""Second sign-in factor of staff: TOTP codes (RFC 6238) and one-time recovery codes."""

import secrets
import time

import pyotp
import segno
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import User

ISSUER = "PROMKM Kota Madiun"
RECOVERY_CODES = 10
STEP = 30  # seconds per TOTP code, as every authenticator app assumes


def required(user: User) -> bool:
    """Whether this account must pass a second factor: every staff role but viewer, by setting."""
    if user.role != "dinas":
        return False
    return user.staff_role != "viewer" or current_app.config["STAFF_TOTP_FOR_VIEWER"]


def enrolled(user: User) -> bool:
    return user.totp_secret is not None


def new_secret() -> str:
    return pyotp.random_base32()


def enrollment_qr(user: User, secret: str) -> str:
    """The otpauth:// QR as an SVG data URI, drawn here so the secret never leaves the page."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _step(code: str, secret: str, at: float) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is, if any."""
    totp = pyotp.TOTP(secret)
    now = int(at // STEP)
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _accept_totp(user: User, code: str, secret: str, at: float | None) -> bool:
    """Check a code and remember its step: a code already used (or an older one) is refused."""
    step = _step(code, secret, time.time() if at is None else at)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def _hash_codes(codes: list[str]) -> list[str]:
    return [generate_password_hash(code) for code in codes]


def enroll(user: User, secret: str, code: str, at: float | None = None) -> list[str] | None:
    """Keep the secret when the code from the app matches; return the recovery codes, shown once."""
    if not _accept_totp(user, code.strip().replace(" ", ""), secret, at):
        return None
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    user.totp_secret = secret
    user.recovery_code_hashes = _hash_codes(codes)
    audit.record("account.second_factor_enrolled", "user", user.id, actor_id=user.id)
    db.session.commit()
    return codes


def verify(user: User, code: str, at: float | None = None) -> bool:
    """The second step: a fresh TOTP code, or an unused recovery code (then spent)."""
    typed = code.strip().replace(" ", "").lower()
    if typed.isdigit() and len(typed) == 6:
        accepted = _accept_totp(user, typed, user.totp_secret, at)
    else:
        accepted = _spend_recovery_code(user, typed)
    db.session.commit()
    return accepted


def _spend_recovery_code(user: User, typed: str) -> bool:
    hashes = list(user.recovery_code_hashes or [])
    for stored in hashes:
        if check_password_hash(stored, typed):
            hashes.remove(stored)
            user.recovery_code_hashes = hashes  # a new list, so the JSON column is saved
            audit.record(
                "account.recovery_code_used",
                "user",
                user.id,
                actor_id=user.id,
                data={"left": len(hashes)},
            )
            return True
    return False


def reset(user: User, actor_id: int) -> None:
    """An admin clears a staff member's second factor: they enroll again; their sessions end."""
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_code_hashes = None
    user.session_version += 1
    audit.record(
        "staff.second_factor_reset",
        "user",
        user.id,
        actor_id=actor_id,
        data={"sessions_ended": True},
    )
    db.session.commit()
