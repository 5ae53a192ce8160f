"""/metrics (Prometheus text format), /readyz, and beat's heartbeat.

Counters and histograms of requests live in each gunicorn worker; with
PROMETHEUS_MULTIPROC_DIR set, prometheus_client keeps them in files there and /metrics adds
up every worker's. What the database and the broker know (backlogs, ages) is computed at
scrape time with a few cheap queries, so it is right whichever process answers.
"""

import hmac
import ipaddress
import os
import time
import uuid
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from promkm_qr.extensions import db
from promkm_qr.models import Document, Job, OutboxMessage, Setting
from promkm_qr.models.base import utcnow
from promkm_qr.models.rollup import RollupDelta
from promkm_qr.models.upload import PhotoUpload

bp = Blueprint("ops", __name__)
HEARTBEAT_KEY = "beat_heartbeat"

REQUEST_SECONDS = Histogram(
    "promkm_http_request_seconds",
    "Time to answer a request, by endpoint and status (its _count counts requests).",
    ["endpoint", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10),
)
REPORTS_SUBMITTED = Counter("promkm_reports_submitted", "Purchase reports recorded.")


def record_heartbeat() -> None:
    """Beat's scheduled heartbeat task writes the time it ran (UTC)."""
    row = db.session.get(Setting, HEARTBEAT_KEY)
    if row is None:
        db.session.add(Setting(key=HEARTBEAT_KEY, value=utcnow().isoformat()))
    else:
        row.value = utcnow().isoformat()
    db.session.commit()


def heartbeat_age() -> float | None:
    """Seconds since beat's last heartbeat; None if it never ran."""
    value = db.session.scalar(select(Setting.value).where(Setting.key == HEARTBEAT_KEY))
    if value is None:
        return None
    return (utcnow() - datetime.fromisoformat(value)).total_seconds()


def _queue_length() -> int | None:
    """Messages waiting in the Celery queue (Redis broker only; a list per queue)."""
    celery = current_app.extensions["celery"]
    if not str(celery.conf.broker_url).startswith("redis"):
        return None
    with celery.connection_for_read() as connection:
        client = connection.default_channel.client
        return client.llen(celery.conf.task_default_queue)


class _DatabaseCollector:
    """Gauges read from the database and the broker at scrape time."""

    def collect(self):
        def gauge(name, doc, value, labels=None):
            family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
            family.add_metric(list((labels or {}).values()), value)
            return family

        session = db.session
        unsent, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.sent_at.is_(None)
            )
        ).one()
        yield gauge("promkm_outbox_backlog", "Outbox messages not yet sent.", unsent)
        age = (utcnow() - oldest).total_seconds() if oldest else 0
        yield gauge("promkm_outbox_oldest_seconds", "Age of the oldest unsent message.", age)
        uploads = GaugeMetricFamily(
            "promkm_photo_uploads", "Photo uploads by state.", labels=["state"]
        )
        counts = dict(
            session.execute(
                select(PhotoUpload.state, func.count()).group_by(PhotoUpload.state)
            ).all()
        )
        for state in ("pending", "done", "failed"):
            uploads.add_metric([state], counts.get(state, 0))
        yield uploads
        deltas = session.scalar(select(func.count()).select_from(RollupDelta))
        yield gauge("promkm_rollup_deltas_pending", "Dashboard deltas not yet folded.", deltas)
        yield self._documents(session)
        queue = _queue_length()
        if queue is not None:
            yield gauge("promkm_celery_queue_length", "Messages waiting for a worker.", queue)
        age = heartbeat_age()
        if age is not None:
            yield gauge("promkm_beat_heartbeat_age_seconds", "Seconds since beat's heartbeat.", age)

    @staticmethod
    def _documents(session):
        """Documents of the five newest batches, by state."""
        family = GaugeMetricFamily(
            "promkm_batch_documents", "Documents of recent batches.", labels=["batch", "state"]
        )
        recent = (
            select(Job.id).where(Job.kind == "documents").order_by(Job.created_at.desc()).limit(5)
        ).scalar_subquery()
        rows = session.execute(
            select(Document.job_id, Document.state, func.count())
            .where(Document.job_id.in_(recent))
            .group_by(Document.job_id, Document.state)
        ).all()
        for job_id, state, count in rows:
            family.add_metric([job_id, state], count)
        return family


def _allowed() -> bool:
    """Loopback, or the METRICS_TOKEN bearer token."""
    try:
        if ipaddress.ip_address(request.remote_addr or "").is_loopback:
            return True
    except ValueError:
        pass
    token = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


@bp.route("/metrics")
def metrics():
    """The Prometheus text format."""
    if not _allowed():
        return Response("forbidden\n", 403, mimetype="text/plain")
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    scraped = CollectorRegistry()
    scraped.register(_DatabaseCollector())
    body = generate_latest(processes) + generate_latest(scraped)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _check_database() -> None:
    db.session.execute(text("SELECT 1"))


def _check_migrations() -> None:
    current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    script = ScriptDirectory(str(Path(current_app.root_path).parent / "migrations"))
    head = script.get_current_head()
    if current != head:
        raise RuntimeError(f"database at {current}, code at {head}: run `flask db upgrade`")


def _check_broker() -> None:
    celery = current_app.extensions["celery"]
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        # Kombu's Redis transport connects lazily: ask the server itself.
        client = getattr(connection.default_channel, "client", None)
        if client is not None:
            client.ping()


def _check_storage() -> None:
    probe = Path(current_app.config["STORAGE_DIR"]) / f".readyz-{uuid.uuid4().hex}"
    probe.write_bytes(b"ok")
    probe.unlink()


def _check_beat() -> None:
    age = heartbeat_age()
    limit = current_app.config["BEAT_HEARTBEAT_MAX_AGE"]
    if age is None or age > limit:
        seen = "never" if age is None else f"{age:.0f} s ago"
        raise RuntimeError(f"last heartbeat {seen} (limit {limit} s): is beat running?")


CHECKS = {
    "database": _check_database,
    "migrations": _check_migrations,
    "broker": _check_broker,
    "storage": _check_storage,
    "beat": _check_beat,
}


@bp.route("/readyz")
def ready():
    """Whether this instance can serve: 503 naming each failing part."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure makes the part not ready; its text names why
            db.session.rollback()
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
    failing = [name for name, result in results.items() if result != "ok"]
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": results}
    return body, 503 if failing else 200


def register(app: Flask) -> None:
    """The routes, and request timing on every request."""
    app.register_blueprint(bp)

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.get("request_started")
        if started is not None:
            REQUEST_SECONDS.labels(
                request.endpoint or "none", request.method, str(response.status_code)
            ).observe(time.perf_counter() - started)
        return response
