"""Helpers for fault tests: a second app instance on other servers."""

import contextlib

import pytest


@contextlib.contextmanager
def other_app(config: dict, session_app=None):
    """An app on other servers; the session app's Celery is the default again afterwards."""
    from promkm_qr import create_app

    application = create_app({"TESTING": True, **config})
    try:
        yield application
    finally:
        if session_app is not None:
            session_app.extensions["celery"].set_default()


@pytest.fixture
def make_other_app(request):
    """Factory fixture around other_app that restores the session app's Celery default."""
    session_app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    return lambda config: other_app(config, session_app)
