"""/metrics for loopback or the token; /readyz names the failing part; gunicorn workers add up."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from promkm_qr.extensions import db
from promkm_qr.models import OutboxMessage, Setting
from promkm_qr.models.base import utcnow
from promkm_qr.monitoring import HEARTBEAT_KEY, record_heartbeat
from promkm_qr.tasks.system import heartbeat
from tests.faults.conftest import other_app
from tests.support.worker import ROOT

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}


def _sample(body: str, name: str, **labels) -> float:
    """The value of one sample of the text format."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}(?:\{{{re.escape(wanted)}\}})? (\S+)$" if wanted else rf"^{name} (\S+)$"
    match = re.search(pattern, body, re.MULTILINE)
    assert match, f"{name}{{{wanted}}} not in /metrics"
    return float(match.group(1))


def test_metrics_answer_loopback_and_elsewhere_only_the_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-123")
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base=ELSEWHERE).status_code == 403
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=ELSEWHERE, headers=wrong).status_code == 403
    right = {"Authorization": "Bearer scrape-token-123"}
    answer = client.get("/metrics", environ_base=ELSEWHERE, headers=right)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=")
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert client.get("/metrics", environ_base=ELSEWHERE, headers=right).status_code == 403


def test_metrics_count_requests_and_read_the_backlogs(app, client):
    before = client.get("/metrics").get_data(as_text=True)
    labels = {"endpoint": "public.health", "method": "GET", "status": "200"}
    try:
        start = _sample(before, "promkm_http_request_seconds_count", **labels)
    except AssertionError:
        start = 0
    for _ in range(3):
        client.get("/healthz")
    db.session.add(OutboxMessage(task="x", args=[], created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    heartbeat.run()
    body = client.get("/metrics").get_data(as_text=True)
    assert _sample(body, "promkm_http_request_seconds_count", **labels) == start + 3
    assert _sample(body, "promkm_outbox_backlog") == 1
    assert 299 <= _sample(body, "promkm_outbox_oldest_seconds") < 400
    assert _sample(body, "promkm_photo_uploads", state="pending") == 0
    assert _sample(body, "promkm_rollup_deltas_pending") >= 0
    assert _sample(body, "promkm_beat_heartbeat_age_seconds") < 60


def test_readyz_is_ok_with_every_part_up(client):
    record_heartbeat()
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["failing"] == []


def test_readyz_names_a_stale_beat(client):
    db.session.add(Setting(key=HEARTBEAT_KEY, value=(utcnow() - timedelta(hours=1)).isoformat()))
    db.session.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["failing"] == ["beat"]
    assert "is beat running?" in answer.get_json()["checks"]["beat"]
    assert client.get("/healthz").status_code == 200  # liveness stays cheap and green


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_readyz_names_a_broker_nobody_listens_on(app, monkeypatch):
    record_heartbeat()
    # Celery reads CELERY_BROKER_URL (which the session sets) before its config.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{_free_port()}/0")
    with other_app({}) as down:
        answer = down.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["failing"] == ["broker"]


def test_gunicorn_workers_add_up_in_multiprocess_mode(app, session_env, tmp_path):
    port = _free_port()
    env = {**os.environ, **session_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def get(path: str) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", path)
            return connection.getresponse().read().decode()
        finally:
            connection.close()

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get("/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.5)
        # In parallel until both workers have answered some (the second may boot later).
        sent = 1
        while len(list(tmp_path.glob("histogram_*.db"))) < 2:
            assert time.monotonic() < deadline, "the second worker answered nothing"
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda _: get("/healthz"), range(16)))
            sent += 16
        body = get("/metrics")
    finally:
        server.terminate()
        server.wait(30)
    labels = {"endpoint": "public.health", "method": "GET", "status": "200"}
    # Each worker counted its own requests in its own file; /metrics adds them up.
    assert _sample(body, "promkm_http_request_seconds_count", **labels) == sent


def test_beat_writes_its_heartbeat_as_it_starts(app, session_env, tmp_path):
    from promkm_qr.monitoring import heartbeat_age

    env = {**os.environ, **session_env, "PROMKM_INSTANCE": str(tmp_path)}
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_worker", "beat", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            db.session.rollback()  # a new snapshot each time
            age = heartbeat_age()
            if age is not None:
                break
            assert beat.poll() is None, "beat exited"
            assert time.monotonic() < deadline, "beat wrote no heartbeat"
            time.sleep(0.5)
    finally:
        beat.terminate()
        beat.wait(30)
    assert age < 60
