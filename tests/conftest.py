"""Fixtures: an app on a fresh database (SQLite or PostgreSQL), clients, workers, browser.

TEST_DATABASE=sqlite|postgres and TEST_BROKER=sqlite|redis choose the backends of the
session's app; tests that need PostgreSQL or Redis whatever the session uses ask for the
`postgres_url` or `redis_url` fixtures, which skip (or fail under CI) when absent.
"""

import contextvars
import os
import re
import threading
import time
import uuid

import pyotp
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from tests.support import services
from tests.support.worker import Worker

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
BROKER = os.environ.get("TEST_BROKER", "sqlite")
KEEP_TABLES = {"kecamatan", "kelurahan"}
PASSWORD = "rahasia-123"
# Every staff account made by tests.factories.make_staff is enrolled with this TOTP secret.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_pg_database() -> tuple[str, callable]:
    """A new empty PostgreSQL database and a function that drops it."""
    admin_url = _psycopg(services.POSTGRES_ADMIN_URL)
    name = f"promkm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session")
def postgres_url():
    """The admin URL of a reachable PostgreSQL server."""
    ok = services.reachable(services.POSTGRES_ADMIN_URL)
    services.need("PostgreSQL", ok, f"no server at {services.POSTGRES_ADMIN_URL}")
    return services.POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def redis_url():
    """The URL of a reachable Redis server."""
    services.need(
        "Redis", services.reachable(services.REDIS_URL), f"no server at {services.REDIS_URL}"
    )
    return services.REDIS_URL


@pytest.fixture(scope="session")
def session_env(tmp_path_factory):
    """Environment shared by the test process's app and the worker processes it starts."""
    instance = tmp_path_factory.mktemp("instance")
    drop = None
    if BACKEND == "postgres":
        services.need(
            "PostgreSQL", services.reachable(services.POSTGRES_ADMIN_URL), "TEST_DATABASE=postgres"
        )
        database_url, drop = create_pg_database()
    else:
        database_url = f"sqlite:///{instance / 'test.sqlite'}"
    if BROKER == "redis":
        services.need("Redis", services.reachable(services.REDIS_URL), "TEST_BROKER=redis")
        broker, backend = services.REDIS_URL, services.REDIS_URL
    else:
        broker = f"sqla+sqlite:///{instance / 'broker.sqlite'}"
        backend = f"db+sqlite:///{instance / 'results.sqlite'}"
    env = {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": backend,
        "PROMKM_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        "PROMKM_INSTANCE": str(instance),
        "PROMKM_STORAGE": str(instance / "storage"),
        "SECRET_KEY": "test-secret",
        "QR_SIGNING_KEYS": "test-key-2,test-key-1",
        "PUBLIC_BASE_URL": "https://promkm.example.go.id",
        # Webhook retries of the worker come within seconds, not minutes.
        "WEBHOOK_BACKOFF_SECONDS": "0.5",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if drop:
        drop()


@pytest.fixture(scope="session")
def app(session_env):
    """The application on a migrated database with regions and defaults loaded."""
    from promkm_qr import create_app, reference

    application = create_app({"TESTING": True})
    application.test_client_class = IsolatedClient
    with application.app_context():
        upgrade()
        reference.load_regions(application.config["REGIONS_CSV"])
        reference.seed_defaults()
    return application


# Set while the session's Celery worker runs.
_live_worker = threading.Event()


def _empty_tables(db) -> None:
    """Delete every row but the regions and defaults, in one transaction."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEEP_TABLES:
            db.session.execute(delete(table))
    # Deleting report flags fired the review-queue trigger (migration 0009), perhaps after
    # its delta table was emptied: empty it again.
    db.session.execute(delete(db.metadata.tables["review_deltas"]))
    db.session.commit()


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """Each test starts with only regions and defaults; rate limits reset."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    from promkm_qr import reference
    from promkm_qr.extensions import db, limiter
    from promkm_qr.reports import evidence_queue

    with app.app_context():
        yield
        if _live_worker.is_set():
            # Tasks this test queued and the worker has not taken yet would otherwise run in
            # the next test, on rows that reuse this test's ids (SQLite restarts them).
            app.extensions["celery"].control.purge()
        # A message this test left waiting (or one purged) must not stand for the next
        # test's uploads.
        evidence_queue.clear()
        for attempt in range(3):
            db.session.rollback()
            try:
                _empty_tables(db)
                break
            except IntegrityError:
                # A live worker of the session committed a row (a report's flag) that refers
                # to a row already deleted here: start again from a new snapshot.
                if attempt == 2:
                    raise
        reference.seed_defaults()
        db.session.remove()
    limiter.reset()
    # Any Celery() a test builds makes itself the thread's current app; undo that here.
    app.extensions["celery"].set_current()


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server does.

    Tests hold an app context for their own queries; without this, requests would share
    its `g` (and so Flask-Login's cached user) and its database session.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            # Make the test's rows visible to the request and start a fresh snapshot after.
            from promkm_qr.extensions import db

            db.session.commit()
        # Buffered: a streamed body must be read and closed inside the request's own context.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    """A test client with CSRF protection on, as in production."""
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, url: str) -> str:
    """Open a page and return the CSRF token of its form."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def login(client, role: str, identifier: str, password: str = PASSWORD, next_url: str = ""):
    """Sign in through the real form, with the second step where asked; returns the response."""
    token = csrf_token(client, "/auth/masuk")
    response = client.post(
        "/auth/masuk",
        data={
            "csrf_token": token,
            "role": role,
            "identifier": identifier,
            "password": password,
            "next": next_url,
        },
    )
    location = response.headers.get("Location", "")
    if location.endswith("/auth/dua-langkah/daftar"):
        html = client.get(location).get_data(as_text=True)
        secret = re.search(r"<code data-secret>([A-Z2-7]+)</code>", html).group(1)
        return second_step(client, "/auth/dua-langkah/daftar", pyotp.TOTP(secret).now())
    if location.endswith("/auth/dua-langkah"):
        with client.session_transaction() as session:
            user_id = session["half_signed_in"]["id"]
        return second_step(client, "/auth/dua-langkah", totp_code(client.application, user_id))
    return response


def second_step(client, url: str, code: str):
    """Send a code to the second sign-in step (or enrollment); returns the response."""
    return client.post(url, data={"csrf_token": csrf_token(client, url), "code": code})


def browser_second_step(page, app, username: str) -> None:
    """In a browser just past the password step: enter the staff account's code if asked."""
    from sqlalchemy import select

    from promkm_qr.extensions import db
    from promkm_qr.models import User

    page.wait_for_function("!location.pathname.startsWith('/auth/masuk')")
    if "/auth/dua-langkah/daftar" in page.url:  # not enrolled yet (the demo admin)
        page.fill("#code", pyotp.TOTP(page.inner_text("[data-secret]")).now())
        page.click("form button.primary")
        page.get_by_role("link", name="Lanjut").click()
    elif "/auth/dua-langkah" in page.url:
        with app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.username == username))
        page.fill("#code", totp_code(app, user_id))
        page.click("form button.primary")
    else:
        return
    page.wait_for_function("!location.pathname.startsWith('/auth/dua-langkah')")


def totp_code(app, user_id: int) -> str:
    """A current code for an enrolled test account.

    Tests sign the same account in many times within one 30-second step, and a step once
    used is refused: the account's last used step is forgotten first, as a new step would.
    """
    from promkm_qr.extensions import db
    from promkm_qr.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        user.totp_last_step = None
        secret = user.totp_secret
        db.session.commit()
    return pyotp.TOTP(secret).now()


@pytest.fixture(scope="session")
def worker(app, session_env, tmp_path_factory):
    """A real Celery worker on the session's broker and database."""
    log = open(tmp_path_factory.mktemp("worker") / "worker.log", "w+b")  # noqa: SIM115
    process = Worker(session_env, log=log)
    try:
        wait_for_worker(app, process)
        _live_worker.set()
        yield process
    finally:
        _live_worker.clear()
        process.stop()
        log.close()


def wait_for_worker(app, process: Worker | None = None, timeout: float = 90) -> None:
    """Send ping tasks until the worker executes one."""
    from promkm_qr.extensions import db
    from promkm_qr.jobs import create_job
    from promkm_qr.models import Job

    with app.app_context():
        job = create_job("ping")
        db.session.commit()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Resent until one lands: the broker drops messages sent before the worker
            # has bound its queue, and ping is idempotent.
            app.extensions["celery"].send_task("promkm_qr.system.ping", args=[job.id])
            time.sleep(0.5)
            db.session.rollback()  # a new snapshot: SQLite keeps the old one until then
            if db.session.get(Job, job.id).state == "done":
                return
            if process is not None and process.process.poll() is not None:
                raise AssertionError(f"the worker exited with {process.process.returncode}")
    raise AssertionError("the Celery worker did not execute a ping task in time")


def _closed_before_sending(app):
    """The app with each response read whole and closed before the server sends it.

    werkzeug's development server drains the request after the response and closes the
    response only if that drain succeeds; a browser that drops the connection (a page left
    while its scripts load) makes it skip the close, and the static file stays open until
    the garbage collector reports it in whichever test runs then."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP on a free loopback port, for the browser."""
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download is not used)."""
    chromium = "/usr/bin/chromium"
    services.need("Chromium", os.path.exists(chromium), "install the Debian package chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


def phone_context(browser, width: int = 390, height: int = 844, **options):
    """A new browser context like an Android phone in Madiun (a mid-range one by default)."""
    return browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        **options,
    )


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser page (a mid-range Android's viewport)."""
    context = phone_context(browser)
    page = context.new_page()
    yield page
    context.close()
