"""The deploy/ files against the code: every setting documented, one beat, static URLs."""

import hashlib
import os
import re
import subprocess
import sys

from flask import url_for

from tests.support.layout import DEPLOY, ROOT, wait_for

ENV_READ = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z0-9_]+)["']""")


def test_env_example_documents_every_variable_the_code_reads():
    sources = [*(ROOT / "promkm_qr").rglob("*.py"), ROOT / "wsgi.py", ROOT / "celery_worker.py"]
    read = {name for path in sources for name in ENV_READ.findall(path.read_text())}
    documented = set(re.findall(r"^#?([A-Z0-9_]+)=", (DEPLOY / ".env.example").read_text(), re.M))
    assert read, "no variable found: the pattern no longer matches how config.py reads them"
    assert read - documented == set()


def test_static_urls_carry_the_files_content_hash(app):
    css = (ROOT / "promkm_qr" / "static" / "app.css").read_bytes()
    with app.test_request_context():
        url = url_for("static", filename="app.css")
    assert url == f"/static/app.css?v={hashlib.sha256(css).hexdigest()[:12]}"


def test_a_second_beat_on_the_same_machine_refuses_without_redis(tmp_path):
    """The laptop's embedded broker: the lock is a file beside the schedule."""
    env = {
        **os.environ,
        "PROMKM_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'beat.sqlite'}",
        "SECRET_KEY": "beat-test",
        "PROMKM_QUEUE": "beat-test",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(name, None)
    command = [sys.executable, "-m", "celery", "-A", "celery_worker", "beat", "--loglevel", "INFO"]
    first_log = tmp_path / "first.log"
    with first_log.open("wb") as log:
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(
            lambda: first.poll() is not None or "beat lock acquired" in first_log.read_text(),
            60, "the first beat",
        )  # fmt: skip
        assert first.poll() is None, first_log.read_text()
        second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60)
        assert second.returncode == 1
        assert b"another beat holds the lock file" in second.stdout + second.stderr
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(30)
