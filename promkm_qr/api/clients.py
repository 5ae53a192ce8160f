"""API clients: create (the token is shown once), authenticate by token, revoke."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import ApiClient
from promkm_qr.models.base import utcnow

SCOPES = (
    "read:compliance",
    "read:reports",
    "read:stalls",
    "read:documents",
    "write:stalls",
    "write:roster",
)
TOKEN_PREFIX = "pqr_"  # noqa: S105 (a marker, not a secret)
# last_used_at is written at most this often per client: an UPDATE on every call of a
# paging loop would be a write for nothing.
_USE_GRANULARITY = timedelta(minutes=1)


class ClientError(ValueError):
    """Input that cannot make a client (unknown scope, empty name, expiry already past)."""


@dataclass(frozen=True)
class Caller:
    """The authenticated client of a request, as plain data for the views."""

    id: int
    name: str
    scopes: frozenset[str]
    opd_id: int | None


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_client(
    name: str,
    scopes: list[str],
    *,
    opd_id: int | None = None,
    expires_at: datetime | None = None,
    actor_id: int | None = None,
) -> tuple[int, str]:
    """Make a client and return (id, token); the token exists nowhere else afterwards."""
    name = name.strip()
    unknown = sorted(set(scopes) - set(SCOPES))
    if not name:
        raise ClientError("name is empty")
    if unknown or not scopes:
        raise ClientError(f"unknown scope: {', '.join(unknown) or '(none)'}")
    if expires_at is not None and expires_at <= utcnow():
        raise ClientError("expiry is not in the future")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name[:100],
        token_prefix=token[:12],
        token_hash=token_digest(token),
        scopes=sorted(set(scopes)),
        opd_id=opd_id,
        expires_at=expires_at,
        created_by_id=actor_id,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(
        "api_client.created",
        "api_client",
        client.id,
        actor_id=actor_id,
        data={"scopes": client.scopes, "opd_id": opd_id},
    )
    db.session.commit()
    return client.id, token


def revoke_client(client_id: int, actor_id: int | None) -> bool:
    """Revoke a client's token at once; False when it was unknown or revoked already."""
    client = db.session.get(ApiClient, client_id)
    if client is None or client.revoked_at is not None:
        return False
    client.revoked_at = utcnow()
    audit.record("api_client.revoked", "api_client", client.id, actor_id=actor_id)
    db.session.commit()
    return True


def authenticate(token: str) -> Caller | None:
    """The client a bearer token belongs to, if it is neither expired nor revoked."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == token_digest(token)))
    now = utcnow()
    if client is None or client.revoked_at is not None:
        return None
    if client.expires_at is not None and client.expires_at <= now:
        return None
    if client.last_used_at is None or now - client.last_used_at > _USE_GRANULARITY:
        db.session.execute(
            update(ApiClient).where(ApiClient.id == client.id).values(last_used_at=now)
        )
        db.session.commit()
    return Caller(client.id, client.name, frozenset(client.scopes), client.opd_id)


def list_clients() -> list[ApiClient]:
    """Every client, newest first, for the admin page."""
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.id.desc())))
