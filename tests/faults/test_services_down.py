"""PostgreSQL restarted and Redis stopped under traffic: clear answers, no restart needed.

Each test runs its own server from the installed binaries on a free port, so stopping it
disturbs nothing else.
"""

import threading
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from promkm_qr import reference
from promkm_qr.extensions import db
from tests.conftest import login
from tests.factories import make_staff
from tests.support.servers import TempRedis

pytestmark = pytest.mark.timeout(120)


def _hammer(client, stop: threading.Event, statuses: list) -> None:
    """Keep requesting a database-backed page until told to stop."""
    while not stop.is_set():
        statuses.append(client.get("/healthz").status_code)
        time.sleep(0.02)


@pytest.mark.postgres
def test_a_request_whose_connection_died_ends_cleanly(temp_postgres, make_other_app, tmp_path):
    # The server goes away while a request holds a connection: ending the request must not
    # raise (the rollback that returns the connection fails), or the page already made, the
    # 503 page included, would become a 500.
    config = {"SQLALCHEMY_DATABASE_URI": temp_postgres.url, "STORAGE_DIR": str(tmp_path / "s")}
    with make_other_app(config) as app:
        with app.app_context():
            upgrade()
        with app.test_request_context("/"):
            db.session.execute(text("SELECT 1"))  # the session now holds a connection
            temp_postgres.stop()
            app.do_teardown_appcontext()  # what Flask runs when the request ends
        temp_postgres.start()
        with app.app_context():
            assert db.session.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.postgres
def test_postgres_restart_gives_503_then_recovers(temp_postgres, make_other_app, tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": temp_postgres.url, "STORAGE_DIR": str(tmp_path / "s")}
    with make_other_app(config) as app:
        with app.app_context():
            upgrade()
            reference.load_regions(app.config["REGIONS_CSV"])
            make_staff(username="petugas")
            db.session.remove()
        client = app.test_client()
        assert client.get("/healthz").status_code == 200

        stop, statuses = threading.Event(), []
        traffic = threading.Thread(target=_hammer, args=(app.test_client(), stop, statuses))
        traffic.start()
        time.sleep(0.3)
        temp_postgres.stop()
        down = client.get("/healthz")
        page = client.get("/auth/masuk")
        login_down = login(client, "dinas", "petugas") if page.status_code == 200 else page
        temp_postgres.start()
        time.sleep(0.5)
        stop.set()
        traffic.join(10)

        assert down.status_code == 503
        assert "Basis data tidak dapat dihubungi" in down.get_data(as_text=True)
        assert login_down.status_code == 503
        # No request failed any other way than a clear 503, and the app recovered by itself.
        assert set(statuses) <= {200, 503}, sorted(set(statuses))
        assert 503 in statuses and statuses[-1] == 200
        assert client.get("/healthz").status_code == 200
        assert login(client, "dinas", "petugas").status_code == 302
        with app.app_context():
            db.session.remove()
            db.engines[None].dispose()


@pytest.mark.redis
def test_sign_in_keeps_working_while_rate_limit_store_is_down(make_other_app, tmp_path):
    redis = TempRedis(tmp_path)
    redis.start()
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "STORAGE_DIR": str(tmp_path / "s"),
        "RATELIMIT_STORAGE_URI": redis.url,
    }
    try:
        with make_other_app(config) as app:
            with app.app_context():
                upgrade()
                make_staff(username="petugas")
                db.session.remove()
            client = app.test_client()
            assert login(client, "dinas", "petugas").status_code == 302
            redis.stop()
            # Limits fall back to memory: sign-in still answers, and still limits.
            other = app.test_client()
            assert login(other, "dinas", "petugas").status_code == 302
            statuses = [
                login(app.test_client(), "dinas", "petugas", "salah").status_code for _ in range(12)
            ]
            assert statuses[0] == 401 and 429 in statuses
    finally:
        redis.stop()
