"""Celery wired to Flask: every task runs inside an app context and takes only ids."""

import ctypes
import ctypes.util
import gc

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init
from flask import Flask
from kombu.transport import sqlalchemy as embedded_broker

# The embedded (SQLite) broker is polled. At kombu's default of 1 s a pool process that
# finishes a task waits half a second on average for its next one; every poll costs the
# worker CPU, so not much less than this (at 0.1 s a poster batch spent ~10 % more CPU on
# polling than it saved in waiting). This transport passes its options to create_engine,
# so the interval is set on the class instead.
embedded_broker.Transport.polling_interval = 0.25


# glibc's mallopt() parameters.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@worker_init.connect
def _prepare_photo_work(**_kwargs) -> None:
    """Before the pool forks: keep freed photo buffers, load what photo hashing imports."""
    # A photo needs ~20 MB of buffers. With glibc's self-tuning thresholds, once SciPy's
    # FFT module was loaded (imagehash.phash imports it) every task gave them back to the
    # kernel and faulted them in again: ~4,600 page faults and ~10 ms of CPU per photo.
    # Fixed thresholds keep up to 64 MB of freed memory for the next task instead.
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 64 << 20)
    except (OSError, AttributeError, TypeError):
        pass  # not glibc: nothing to tune
    # Imported here once instead of by each pool process on its first photo (~0.2 s).
    import scipy.fftpack  # noqa: F401


@worker_process_init.connect
def _freeze_imported_objects(**_kwargs) -> None:
    """In each pool process, keep the collector away from what was loaded before the fork."""
    # Laying out a PDF allocates enough objects to trigger a full collection every few
    # documents, and each one rescanned the whole app (modules, SQLAlchemy, WeasyPrint):
    # 17-18 % of a receipt's or recap's CPU time, 7 % once those objects are frozen. Frozen
    # pages shared with the parent also stay shared instead of being copied by a collection.
    gc.freeze()


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from app.config["CELERY"] and make it the default."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = {
        **app.config["CELERY"].get("beat_schedule", {}),
        **beat_schedule(),
    }
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    # Importing the task modules registers their @shared_task functions.
    from promkm_qr.tasks import (  # noqa: F401
        dashboard,
        documents,
        evidence,
        stalls,
        system,
        verification,
    )

    return celery_app


def beat_schedule() -> dict:
    """Periodic jobs, in Asia/Jakarta time."""
    return {
        "flush-outbox": {"task": "promkm_qr.outbox.flush", "schedule": 30.0},
        "heartbeat": {"task": "promkm_qr.system.heartbeat", "schedule": 30.0},
        "requeue-stale-uploads": {
            "task": "promkm_qr.evidence.requeue_stale_uploads",
            "schedule": crontab(minute=20),
        },
        "sweep-orphan-uploads": {
            "task": "promkm_qr.evidence.sweep_orphan_uploads",
            "schedule": crontab(minute=40),
        },
        "fold-dashboard-rollups": {"task": "promkm_qr.dashboard.fold_rollups", "schedule": 60.0},
        "sweep-unanswered-reports": {
            "task": "promkm_qr.reports.sweep_unanswered",
            "schedule": crontab(hour=1, minute=15),
        },
        "monthly-documents": {
            "task": "promkm_qr.documents.monthly",
            "schedule": crontab(minute=0, hour=1, day_of_month=1),
        },
    }
