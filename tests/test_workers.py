"""A real worker executes tasks sent through the real brokers: Redis and embedded SQLite."""

import time
import uuid

import pytest
from celery import Celery

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job
from tests.support.worker import Worker


def _ping_through(app, session_env, broker: str, tmp_path, monkeypatch) -> Job:
    """Start a worker on broker, send it a ping for a new job, wait for the job to finish."""
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    env = {**session_env, "CELERY_BROKER_URL": broker, "PROMKM_QUEUE": queue}
    with (tmp_path / "worker.log").open("w+b") as log:
        worker = Worker(env, log=log)
        # Celery prefers CELERY_BROKER_URL from the environment over its broker argument.
        monkeypatch.setenv("CELERY_BROKER_URL", broker)
        sender = Celery(broker=broker, set_as_current=False)
        sender.conf.task_default_queue = queue
        try:
            job = create_job("ping")
            db.session.commit()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and job.state != "done":
                assert worker.process.poll() is None, "the worker exited"
                # Resend until it lands: a message sent before the worker has bound its
                # queue is dropped by the broker, and ping is idempotent.
                sender.send_task("promkm_qr.system.ping", args=[job.id])
                time.sleep(1)
                db.session.rollback()  # a new snapshot: SQLite keeps the old one until then
                job = db.session.get(Job, job.id)
            log.seek(0)
            assert job.state == "done", log.read().decode(errors="replace")[-2000:]
            return job
        finally:
            worker.stop()
            sender.close()


@pytest.mark.redis
@pytest.mark.worker
def test_task_runs_through_real_redis_broker(app, session_env, redis_url, tmp_path, monkeypatch):
    job = _ping_through(app, session_env, redis_url, tmp_path, monkeypatch)
    assert job.done == job.total == 1
    assert job.finished_at is not None


@pytest.mark.worker
def test_task_runs_through_embedded_sqlite_broker(app, session_env, tmp_path, monkeypatch):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    job = _ping_through(app, session_env, broker, tmp_path, monkeypatch)
    assert job.done == job.total == 1


@pytest.mark.worker
def test_session_worker_is_alive(worker):
    assert worker.process.poll() is None
