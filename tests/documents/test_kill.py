"""A worker killed mid-batch loses nothing: the batch completes, each document exactly once.

Two ways a worker dies. SIGKILL of a prefork pool child: the worker's main process sees the
child lost and, with acks_late and reject_on_worker_lost, puts the chunk back on the queue by
itself. That needs Redis: with the embedded SQLite broker the worker runs Celery's
synchronous consumer loop, which never notices the lost child, so that test always uses the
redis_url fixture. SIGKILL of the whole worker (Worker.kill()): the chunk it held is never
acknowledged; Redis would hand it out again only after the visibility timeout (3 h) and the
SQLite broker not at all, so a new worker plus the batch sent again (the "Lanjutkan" button,
or the next run) makes just the missing documents.
"""

import hashlib
import os
import shutil
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from promkm_qr.demo import build_demo
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Document, Job
from promkm_qr.storage import get_storage
from tests.documents.conftest import own_worker, wait_for, wait_until_pinged
from tests.support.worker import Worker

pytestmark = [pytest.mark.worker, pytest.mark.timeout(300)]


def _start(sender, period: str) -> Job:
    """A documents job in small chunks, its batch task sent to the test's worker."""
    params = {"period": period, "chunk_size": 3, "kinds": ["asn_receipt", "merchant_recap"]}
    job = create_job("documents", params)
    db.session.commit()
    sender.send_task("promkm_qr.documents.batch", args=[job.id])
    return job


def _done(job_id: str) -> int:
    """Documents of the job already generated."""
    return db.session.scalar(
        select(func.count()).where(Document.job_id == job_id, Document.state == "done")
    )


def _pool_children(worker: Worker) -> list[int]:
    """Pids of the prefork pool processes of a worker."""
    pid = worker.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _kill_a_busy_pool_process(sender, worker: Worker, log, job_id: str) -> int:
    """SIGKILL the pool process while it runs a chunk; the documents done at that moment.

    A chunk takes a fraction of a second, so the kill can land just after the chunk ended;
    the worker then only replaces an idle process. Kill again, for as long as the batch
    runs, until the worker reports the chunk lost.
    """
    while True:
        db.session.rollback()  # to see the workers' commits
        if db.session.get(Job, job_id).state == "done":
            break
        inspect = sender.control.inspect([worker.name], timeout=2, limit=1)
        active = inspect.active() or {}
        pids = [task["worker_pid"] for tasks in active.values() for task in tasks]
        if pids and pids[0] in _pool_children(worker):
            os.kill(pids[0], signal.SIGKILL)
            db.session.rollback()
            at_kill = _done(job_id)
            time.sleep(0.5)
            log.seek(0)
            if b"WorkerLostError" in log.read():
                return at_kill
    raise AssertionError("the batch ended before a kill landed on a running chunk")


def _assert_each_document_once(job_id: str, period: str) -> None:
    """The job finished; every planned document is one row with a file matching its checksum."""
    job = db.session.get(Job, job_id)
    assert job.state == "done" and job.failed == 0
    docs = db.session.scalars(select(Document).where(Document.period == period)).all()
    assert len(docs) == job.total == job.done
    assert len({(d.kind, d.subject) for d in docs}) == len(docs)
    storage = get_storage()
    for doc in docs:
        assert doc.state == "done" and doc.job_id == job_id
        assert hashlib.sha256(storage.get(doc.storage_key)).hexdigest() == doc.checksum
    folder = storage.path(f"documents/{period}")
    files = sorted(str(p.relative_to(storage.root)) for p in folder.rglob("*.pdf"))
    assert files == sorted(d.storage_key for d in docs)  # no second copy, no orphan


@pytest.fixture
def demo_month(app):
    """A small city's month (~90 receipts and recaps), with no files left by other tests."""
    build_demo(stalls=40, asn=48, months=1, reports_per_month=240)
    today = datetime.now()
    period = f"{today.year:04d}-{today.month:02d}"
    shutil.rmtree(get_storage().path(f"documents/{period}"), ignore_errors=True)
    return period


@pytest.mark.redis
def test_killed_pool_process_is_redelivered(
    demo_month, session_env, redis_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("CELERY_BROKER_URL", redis_url)
    with own_worker(session_env, tmp_path / "worker.log", redis_url) as (sender, workers, _, log):
        job = _start(sender, demo_month)
        wait_for(lambda: _done(job.id) >= 9, what="the first chunks")
        at_kill = _kill_a_busy_pool_process(sender, workers[0], log, job.id)
        wait_for(lambda: db.session.get(Job, job.id).state == "done", what="the batch")
    assert 0 < at_kill < db.session.get(Job, job.id).total
    _assert_each_document_once(job.id, demo_month)


def test_killed_worker_then_new_worker_completes_the_batch(demo_month, session_env, tmp_path):
    with own_worker(session_env, tmp_path / "worker.log") as (sender, workers, env, log):
        job = _start(sender, demo_month)
        wait_for(lambda: _done(job.id) >= 9, what="the first chunks")
        workers[0].kill()
        at_kill = _done(job.id)
        assert 0 < at_kill < db.session.get(Job, job.id).total
        workers.append(Worker(env, pool="prefork", log=log))
        wait_until_pinged(sender, workers[-1])
        # What "Lanjutkan" sends: the batch again, which fans out only missing documents.
        sender.send_task("promkm_qr.documents.batch", args=[job.id])
        wait_for(lambda: db.session.get(Job, job.id).state == "done", what="the batch")
    _assert_each_document_once(job.id, demo_month)
