"""Helpers for fault tests: a second app instance on other servers."""

import contextlib

import pytest


@contextlib.contextmanager
def other_app(config: dict, session_app=None):
    """An app on other servers; afterwards the session app's Celery and limits are back.

    Celery's default app and Flask-Limiter's storage are process-wide, not per Flask app,
    so creating a second app would otherwise leave them pointing at its servers.
    """
    from promkm_qr import create_app
    from promkm_qr.extensions import limiter

    saved_limiter = dict(limiter.__dict__)
    application = create_app({"TESTING": True, **config})
    try:
        yield application
    finally:
        limiter.__dict__.clear()
        limiter.__dict__.update(saved_limiter)
        if session_app is not None:
            session_app.extensions["celery"].set_default()


@pytest.fixture
def make_other_app(request):
    """Factory fixture around other_app that restores the session app's Celery default."""
    session_app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    return lambda config: other_app(config, session_app)
