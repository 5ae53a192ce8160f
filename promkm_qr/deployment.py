"""What a production start refuses, and the settings every machine must share.

With PROMKM_ENV=production, create_app refuses to build the web, worker or beat app while
any problem below is present; `flask --app wsgi check-deploy` lists them with their fixes.
The flask CLI itself still starts, so that the same commands can repair a machine.
"""

import hashlib
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, inspect, or_, select
from werkzeug.security import check_password_hash

from promkm_qr.demo import DEMO_LOGINS, DEMO_PASSWORD
from promkm_qr.extensions import db
from promkm_qr.models import User

# Shorter keys are guessable offline from one signed cookie or QR link.
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Problem:
    """One unsafe setting: what it is, and how to fix it."""

    setting: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem}. Fix: {self.fix}."


class UnsafeDeployment(RuntimeError):
    """A production start with unsafe settings."""

    def __init__(self, problems: list[Problem]):
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"PROMKM_ENV=production refuses to start ({len(problems)} problems; "
            f"`flask --app wsgi check-deploy` lists them):\n{lines}"
        )
        self.problems = problems


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _base_url_problem(config) -> str | None:
    if not config["PUBLIC_BASE_URL_SET"]:
        return "unset (posters would print http://127.0.0.1:5000)"
    url = urlsplit(config["PUBLIC_BASE_URL"])
    if url.scheme != "https":
        return f"{config['PUBLIC_BASE_URL']} is not https"
    if not url.hostname or _is_loopback(url.hostname):
        return f"{config['PUBLIC_BASE_URL']} is a loopback address"
    return None


def settings_problems(app: Flask) -> list[Problem]:
    """Problems of the configuration alone (no database needed)."""
    config = app.config
    found = []
    secret = config.get("SECRET_KEY")
    if not secret:
        found.append(
            Problem(
                "SECRET_KEY",
                "unset (a generated key differs on every machine and is not in the backup)",
                "set it to the output of `python -c 'import secrets; print(secrets.token_hex(32))'`"
                ", the same on every machine",
            )
        )
    elif len(secret) < MIN_SECRET_LENGTH:
        found.append(
            Problem(
                "SECRET_KEY",
                f"only {len(secret)} characters",
                f"use at least {MIN_SECRET_LENGTH} random characters (secrets.token_hex(32))",
            )
        )
    if not config.get("QR_SIGNING_KEYS"):
        found.append(
            Problem(
                "QR_SIGNING_KEYS",
                "unset (posters would be signed with a key derived from SECRET_KEY)",
                "set a random key (secrets.token_hex(32)), the same on every machine, and keep "
                "it with the backups: printed posters verify only with it",
            )
        )
    base_url = _base_url_problem(config)
    if base_url:
        found.append(
            Problem(
                "PUBLIC_BASE_URL",
                base_url,
                "set the city's public https address, e.g. https://promkm.madiunkota.go.id",
            )
        )
    if not config.get("SESSION_COOKIE_SECURE"):
        found.append(
            Problem("COOKIE_SECURE", "off", "set COOKIE_SECURE=1 (the site is served over https)")
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        found.append(
            Problem(
                "DATABASE_URL",
                "SQLite",
                "set DATABASE_URL=postgresql://user@host/dbname (password in ~/.pgpass)",
            )
        )
    if not config.get("REDIS_URL"):
        found.append(
            Problem(
                "REDIS_URL",
                "unset (embedded broker, per-process rate limits)",
                "set REDIS_URL=redis://host:6379/0",
            )
        )
    if app.debug:
        found.append(
            Problem("FLASK_DEBUG", "debug is on", "unset FLASK_DEBUG and do not pass --debug")
        )
    return found


def demo_data_problems() -> list[Problem]:
    """Demo accounts, or accounts with the published demo password, in the database."""
    try:
        return _demo_data_problems()
    finally:
        db.session.remove()
        # No pooled connection is left for gunicorn or Celery to fork into their children.
        db.engine.dispose()


def _demo_data_problems() -> list[Problem]:
    if not inspect(db.engine).has_table(User.__tablename__):
        return []  # not migrated yet: nothing to find
    found = []
    demo_accounts = db.session.scalars(
        select(User.id).where(
            or_(
                User.username == DEMO_LOGINS["dinas"],
                User.phone == DEMO_LOGINS["merchant"],
                User.nip == DEMO_LOGINS["asn"],
            )
        )
    ).all()
    if demo_accounts:
        found.append(
            Problem(
                "database",
                f"{len(demo_accounts)} demo accounts (admin, 081234567890, 198609262015051001)",
                "restore into an empty database or set up without --demo",
            )
        )
    # Salted hashes never repeat, except the one hash the demo gives all its accounts: only
    # shared hashes need the (slow) check against the published password.
    shared = db.session.execute(
        select(User.password_hash, func.count())
        .where(User.password_hash.is_not(None))
        .group_by(User.password_hash)
        .having(func.count() > 1)
    ).all()
    with_demo_password = sum(
        count for hashed, count in shared if check_password_hash(hashed, DEMO_PASSWORD)
    )
    if with_demo_password:
        found.append(
            Problem(
                "database",
                f"{with_demo_password} accounts with the demo password",
                "load no demo data in production (set up again into an empty database)",
            )
        )
    return found


def problems(app: Flask) -> list[Problem]:
    """Everything that makes this machine unsafe to run in production."""
    with app.app_context():
        return settings_problems(app) + demo_data_problems()


def refuse_unsafe_start(app: Flask) -> None:
    """Raise UnsafeDeployment when a production app has any problem."""
    found = problems(app)
    if found:
        raise UnsafeDeployment(found)


def _digest(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(b"promkm-fingerprint:" + data).hexdigest()[:12]


def qr_key_fingerprints() -> list[str]:
    """Fingerprints of the QR keys in use (derived from SECRET_KEY when none are set)."""
    from promkm_qr.stalls.links import signing_keys

    return [_digest(key) for key in signing_keys()]


def shared_settings(app: Flask) -> dict[str, str]:
    """Fingerprints (never the values) of what must be equal on every machine."""
    config = app.config
    return {
        "SECRET_KEY": _digest(config.get("SECRET_KEY") or ""),
        "QR_SIGNING_KEYS": _digest(",".join(config.get("QR_SIGNING_KEYS") or [])),
        "PROMKM_STORAGE": _digest(config["STORAGE_DIR"]),
    }


def fingerprint(app: Flask) -> str:
    """One line naming each shared setting's fingerprint: SECRET_KEY=ab12...,QR_..."""
    return ",".join(f"{name}={value}" for name, value in shared_settings(app).items())


def differences(app: Flask, reference: str) -> list[Problem]:
    """The shared settings where this machine differs from a reference fingerprint."""
    theirs = dict(part.split("=", 1) for part in reference.split(",") if "=" in part)
    ours = shared_settings(app)
    return [
        Problem(
            name,
            "differs from the reference machine",
            f"copy {name} from the reference machine's environment",
        )
        for name, value in ours.items()
        if theirs.get(name) != value
    ]
