"""Settings read from the environment, with embedded defaults for a laptop."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instance_path() -> Path:
    """Where local state (SQLite files, stored documents) lives."""
    return Path(os.environ.get("PROMKM_INSTANCE", ROOT / "instance")).resolve()


def _database_url(instance: Path) -> str:
    """Normalise the database URL so psycopg 3 is the PostgreSQL driver."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'promkm.sqlite'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _celery_config(instance: Path) -> dict:
    """Redis when REDIS_URL is set; otherwise an embedded broker on a SQLite file."""
    redis_url = os.environ.get("REDIS_URL")
    broker = os.environ.get("CELERY_BROKER_URL") or (
        redis_url or f"sqla+sqlite:///{instance / 'broker.sqlite'}"
    )
    backend = os.environ.get("CELERY_RESULT_BACKEND") or (
        redis_url or f"db+sqlite:///{instance / 'results.sqlite'}"
    )
    return {
        "broker_url": broker,
        "result_backend": backend,
        "task_ignore_result": True,
        "timezone": "Asia/Jakarta",
        "enable_utc": True,
        # Documents and imports must survive a worker dying mid-task.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": os.environ.get("PROMKM_QUEUE", "promkm"),
        # Above the longest task's hard time limit, so Redis never re-delivers a running task.
        "broker_transport_options": (
            {"visibility_timeout": 3 * 3600} if broker.startswith("redis") else {}
        ),
        "broker_connection_retry_on_startup": True,
        "beat_schedule_filename": str(instance / "celerybeat-schedule"),
        # Exactly one beat per deployment: a second one exits (promkm_qr/tasks/beat_lock.py).
        "beat_scheduler": "promkm_qr.tasks.beat_lock:SingleBeatScheduler",
    }


def _secret_key(instance: Path) -> str | None:
    """SECRET_KEY from the environment, else a random key kept in instance/ (0600).

    Web, worker and beat on one machine then share it, and sessions survive a restart;
    a deployment on several machines must set SECRET_KEY.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if _environment() == "production":
        return None  # never generated there: the start is refused instead (deployment.py)
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _environment() -> str:
    """`production` turns on the deployment checks and JSON logs; anything else is a laptop."""
    return os.environ.get("PROMKM_ENV", "development")


def load_config() -> dict:
    """Build the Flask config mapping from environment variables."""
    instance = _instance_path()
    environment = _environment()
    return {
        "PROMKM_ENV": environment,
        "SECRET_KEY": _secret_key(instance),
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "CELERY": _celery_config(instance),
        "STORAGE_DIR": os.environ.get("PROMKM_STORAGE", str(instance / "storage")),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "PUBLIC_BASE_URL_SET": bool(os.environ.get("PUBLIC_BASE_URL")),
        # Comma-separated; the first signs new QR links, all verify (key rotation).
        "QR_SIGNING_KEYS": [k for k in os.environ.get("QR_SIGNING_KEYS", "").split(",") if k],
        # Webhook retries wait this, doubled per attempt (capped at an hour), for a day.
        "WEBHOOK_BACKOFF_SECONDS": float(os.environ.get("WEBHOOK_BACKOFF_SECONDS", 30)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # The cookie's own limit, no shorter than the longest session (an ASN's 30 days); the
        # session rows enforce each role's idle and absolute limits (accounts/sessions.py).
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        # The cookie set at sign-in already lasts as long as the longest session may: no new
        # Set-Cookie on every response.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LANGUAGES": ["id", "en"],
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_LIMIT_PER_CLIENT": "20/minute",
        "LOGIN_LIMIT_PER_ACCOUNT": "8/minute",
        # Viewers see dashboards only; the city decides whether they need a second factor too.
        "STAFF_TOTP_FOR_VIEWER": os.environ.get("STAFF_TOTP_FOR_VIEWER", "1") == "1",
        # Generous: a whole office may share one public IP behind NAT.
        "QR_LINK_LIMIT_PER_CLIENT": "120/minute",
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0")),
        # Reminders: WhatsApp Business Cloud API and SMTP, both off until configured.
        "WHATSAPP_API_URL": os.environ.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0"),
        "WHATSAPP_TOKEN": os.environ.get("WHATSAPP_TOKEN"),
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID"),
        "SMTP_HOST": os.environ.get("SMTP_HOST"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "1") == "1",
        # PEM file of the CA that signed the SMTP server's certificate, instead of the system's.
        "SMTP_CA_FILE": os.environ.get("SMTP_CA_FILE") or None,
        "SMTP_USER": os.environ.get("SMTP_USER"),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "noreply@localhost"),
        "CITY_NAME": os.environ.get("CITY_NAME", "Kota Madiun"),
        "LOG_FORMAT": os.environ.get(
            "LOG_FORMAT", "json" if environment == "production" else "text"
        ),
        # /metrics answers loopback, and other addresses only with this bearer token.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN"),
        "SENTRY_DSN": os.environ.get("SENTRY_DSN"),
        # /readyz fails when beat has not written its heartbeat for this long.
        "BEAT_HEARTBEAT_MAX_AGE": int(os.environ.get("BEAT_HEARTBEAT_MAX_AGE", "180")),
        "REGIONS_CSV": os.environ.get(
            "REGIONS_CSV", str(Path(__file__).parent / "data" / "wilayah_kota_madiun.csv")
        ),
    }
