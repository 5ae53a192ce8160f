"""Celery wired to Flask: every task runs inside an app context and takes only ids."""

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init
from flask import Flask

from promkm_qr import tuning

tuning.tune_embedded_broker()


@worker_init.connect
def _prepare_photo_work(**_kwargs) -> None:
    """Before the pool forks: keep freed photo buffers, load what photo hashing imports."""
    tuning.keep_freed_memory()
    # Imported here once instead of by each pool process on its first photo (~0.2 s).
    import scipy.fftpack  # noqa: F401


@worker_process_init.connect
def _freeze_imported_objects(**_kwargs) -> None:
    """In each pool process, keep the collector away from what was loaded before the fork."""
    tuning.freeze_imported_objects()


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
        notifications,
        payroll,
        personal_data,
        stalls,
        system,
        verification,
        webhooks,
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
        "sweep-expired-activation-codes": {
            "task": "promkm_qr.accounts.sweep_expired_codes",
            "schedule": crontab(hour=2, minute=10),
        },
        "purge-expired-personal-data": {
            "task": "promkm_qr.privacy.purge_expired",
            "schedule": crontab(hour=2, minute=40),
        },
        # The send time is a setting, so beat only asks often whether it has passed.
        "compose-reminders": {
            "task": "promkm_qr.notifications.compose",
            "schedule": crontab(minute="*/5"),
        },
        "release-due-reminders": {
            "task": "promkm_qr.notifications.release_due",
            "schedule": 60.0,
        },
        "monthly-documents": {
            "task": "promkm_qr.documents.monthly",
            "schedule": crontab(minute=0, hour=1, day_of_month=1),
        },
    }
