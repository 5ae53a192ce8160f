"""Known data for the documents tests: one month of reports with edge cases at its borders."""

import contextlib
import time
import uuid
from datetime import datetime

import pytest
from celery import Celery

from promkm_qr.documents import batch
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job
from tests.factories import make_asn, make_merchant, make_opd, make_report, make_stall
from tests.support.worker import Worker

PERIOD = "2026-10"
HOSTILE = 'Warung <b>Bu</b> "Sugeng" & Putra ꦮꦫꦸꦁ Sumber Rejeki Makmur Sentosa Abadi Jaya'


def run_inline(period: str = PERIOD, **params):
    """Plan and generate a documents job in this process, chunk by chunk."""
    job = create_job("documents", {"period": period, **params})
    db.session.commit()
    batch.plan(job)
    for chunk in batch.pending_chunks(job):
        batch.generate(job.id, chunk)
    db.session.refresh(job)
    return job


@pytest.fixture
def month(app):
    """Two OPD staff with reports in October 2026 (WIB), one with none, one with a long list."""
    opd = make_opd(code="DINKES", name="Dinas Kesehatan")
    sri = make_asn(name="Sri <i>Rahayu</i>", opd=opd, position="pelaksana")
    budi = make_asn(name="Budi Santoso", opd=opd, position="eselon-iv")
    rina = make_asn(name="Rina Wulandari", opd=opd, position="pelaksana")
    merchant = make_merchant(name="Bu Sugeng")
    stall = make_stall(owner=merchant, name=HOSTILE)
    # 1 Oct 00:30 WIB is still 30 Sep in UTC; 1 Nov 00:30 WIB is 31 Oct in UTC.
    make_report(sri, stall, 25_000, datetime(2026, 9, 30, 17, 30), "verified")
    make_report(sri, stall, 15_000, datetime(2026, 10, 10, 3), "confirmed")
    make_report(
        sri,
        stall,
        10_000,
        datetime(2026, 10, 11, 3),
        "disputed",
        flags={"photo_reused": "Foto sama dengan PRX"},
    )
    make_report(sri, stall, 7_500, datetime(2026, 10, 12, 3), "submitted")
    make_report(sri, stall, 99_000, datetime(2026, 10, 31, 17, 30), "verified")
    make_report(sri, stall, 33_000, datetime(2026, 9, 15, 3), "verified")
    for day in range(70):
        make_report(rina, stall, 1_000 + day, datetime(2026, 10, 1 + day % 30, 4), "verified")
    return {
        "opd": opd,
        "sri": sri,
        "budi": budi,
        "rina": rina,
        "merchant": merchant,
        "stall": stall,
    }


@contextlib.contextmanager
def own_worker(session_env: dict, log_path, broker: str | None = None):
    """A prefork worker on a queue of its own (the session worker must not take these tasks)."""
    queue = f"docs-{uuid.uuid4().hex[:8]}"
    env = {**session_env, "PROMKM_QUEUE": queue}
    if broker:
        env["CELERY_BROKER_URL"] = broker
    # Celery prefers CELERY_BROKER_URL from the environment over its broker argument, so
    # the caller sets the environment too when it picks another broker.
    sender = Celery(broker=env["CELERY_BROKER_URL"], set_as_current=False)
    sender.conf.task_default_queue = queue
    with open(log_path, "w+b") as log:
        workers = [Worker(env, pool="prefork", log=log)]
        try:
            wait_until_pinged(sender, workers[0])
            yield sender, workers, env, log
        finally:
            for worker in workers:
                worker.stop()
            sender.close()


def wait_until_pinged(sender: Celery, worker: Worker, timeout: float = 90) -> None:
    """Send pings until the worker runs one (messages sent before it binds its queue drop)."""
    job = create_job("ping")
    db.session.commit()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.process.poll() is None, "the worker exited"
        sender.send_task("promkm_qr.system.ping", args=[job.id])
        time.sleep(0.5)
        db.session.rollback()
        if db.session.get(Job, job.id).state == "done":
            return
    raise AssertionError("the worker did not run a ping in time")


def wait_for(predicate, timeout: float = 120, what: str = "condition"):
    """Poll a database predicate with a fresh snapshot each time until it returns truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
