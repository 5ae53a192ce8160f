"""Helpers for fault tests: a second app instance on other servers."""

import contextlib

import pytest
from celery import _state as celery_state

from tests.support import services
from tests.support.servers import TempPostgres, postgres_bin


@contextlib.contextmanager
def other_app(config: dict):
    """An app on other servers; afterwards Celery's current app and the limits are restored.

    Celery's current/default app and Flask-Limiter's storage are process-wide, not per
    Flask app, so creating a second app would otherwise leave them pointing at its servers.
    """
    from promkm_qr import create_app
    from promkm_qr.extensions import db, limiter

    saved_limiter = dict(limiter.__dict__)
    saved_celery = (celery_state.default_app, celery_state._tls.current_app)
    application = create_app({"TESTING": True, **config})
    try:
        yield application
    finally:
        # Close its pooled connections now: left to the garbage collector, psycopg warns
        # (an error under the suite's filterwarnings) in whatever test happens to run then.
        with application.app_context():
            for engine in db.engines.values():
                engine.dispose()
        limiter.__dict__.clear()
        limiter.__dict__.update(saved_limiter)
        celery_state.default_app, celery_state._tls.current_app = saved_celery


@pytest.fixture
def make_other_app():
    """The other_app context manager, as a fixture."""
    return other_app


@pytest.fixture
def temp_postgres():
    """A private PostgreSQL server, stopped at the end."""
    services.need(
        "PostgreSQL server binaries",
        postgres_bin() is not None,
        "install postgresql (initdb, pg_ctl)",
    )
    server = TempPostgres()
    server.start()
    yield server
    server.remove()
