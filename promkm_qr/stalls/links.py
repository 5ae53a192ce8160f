"""Signed, revocable QR links: `{base}/q/{code}.{version}.{signature}`.

The signature is a truncated HMAC-SHA256 over "code.version" (72 bits, base64url, 12
characters): short enough that the whole URL stays at QR version <= 5 at level M, and far
beyond online guessing, which is also rate-limited. Several keys verify (QR_SIGNING_KEYS,
first one signs) so keys rotate without reprinting every poster. The version is the stall's
poster version: reprinting with revocation bumps it and old posters stop resolving.
No secret or credential is in the link.
"""

import base64
import hashlib
import hmac

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from promkm_qr.core.stall_code import parse_stall_code
from promkm_qr.extensions import db
from promkm_qr.models import RefusedScan, Stall

SIGNATURE_BYTES = 9
# Built once: every scan, form and submission looks its stall up.
_STALL = select(Stall).where(Stall.code == bindparam("code"))
_WITH_KELURAHAN = _STALL.options(joinedload(Stall.kelurahan))


class LinkRefused(Exception):
    """A QR link that must not open the report form, with the reason and stall if known."""

    def __init__(self, reason: str, stall: Stall | None = None):
        super().__init__(reason)
        self.reason = reason  # forged | malformed | unknown | revoked | suspended | pending
        self.stall = stall


def signing_keys() -> list[bytes]:
    """Configured keys, or one derived from SECRET_KEY when none are configured."""
    keys = current_app.config.get("QR_SIGNING_KEYS") or []
    if keys:
        return [k.encode() for k in keys]
    secret = current_app.config["SECRET_KEY"].encode()
    return [hmac.new(secret, b"promkm-qr-link", hashlib.sha256).digest()]


def _signature(key: bytes, code: str, version: int) -> str:
    mac = hmac.new(key, f"{code}.{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:SIGNATURE_BYTES]).decode()


def link_token(code: str, version: int) -> str:
    """The path token for a stall code and poster version, signed with the newest key."""
    return f"{code}.{version}.{_signature(signing_keys()[0], code, version)}"


def poster_url(code: str, version: int) -> str:
    """The full URL printed in a stall's QR."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/q/{link_token(code, version)}"


def parse_token(token: str) -> tuple[str, int, str]:
    """Split a token into (code, version, signature); ValueError when malformed."""
    code, version, signature = token.rsplit(".", 2)
    parse_stall_code(code)
    if not version.isdigit() or len(signature) != 12:
        raise ValueError("malformed")
    return code, int(version), signature


def resolve(token: str, *, with_kelurahan: bool = False) -> Stall:
    """The active stall a link names; raises LinkRefused (and logs it) otherwise.

    with_kelurahan loads the stall's kelurahan in the same query, for a page that shows it.
    """
    try:
        code, version, signature = parse_token(token)
    except ValueError:
        raise _refuse(token, "malformed") from None
    if not any(
        hmac.compare_digest(_signature(key, code, version), signature) for key in signing_keys()
    ):
        raise _refuse(token, "forged")
    stall = db.session.scalar(_WITH_KELURAHAN if with_kelurahan else _STALL, {"code": code})
    if stall is None:
        raise _refuse(token, "unknown")
    if version != stall.poster_version:
        raise _refuse(token, "revoked", stall)
    if stall.status != "active":
        raise _refuse(token, "suspended" if stall.status == "suspended" else "pending", stall)
    return stall


def _refuse(token: str, reason: str, stall: Stall | None = None) -> LinkRefused:
    """Log the refused attempt and build the exception to raise."""
    from flask_login import current_user

    db.session.add(
        RefusedScan(
            # Escaped: a scanned "link" may hold any character, NUL included, which
            # PostgreSQL cannot store.
            token=token.encode("unicode_escape").decode("ascii")[:200],
            reason=reason,
            stall_id=stall.id if stall else None,
            user_id=current_user.id if current_user and current_user.is_authenticated else None,
            client=request.remote_addr if has_request_context() else None,
        )
    )
    db.session.commit()
    return LinkRefused(reason, stall)
