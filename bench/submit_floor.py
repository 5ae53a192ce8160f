"""The floor under bench/submit.py: the same traffic through a bare Flask app and Celery task.

    python bench/submit_floor.py [--clients 32] [--submissions 320]

The clients do what bench/submit.py's do (the poster link, which answers with the form, and
a multipart POST of a ~300 KB photo) against an app with no database, sign-in, CSRF, rules
or templates: the form is a short string, the POST parses the upload, writes it to disk and
sends a Celery task through Redis; the task reads the file, deletes it and counts itself.
Gunicorn and the worker run with bench/submit.py's layout. What the whole machine spends per
submission here is what the real path costs besides its own work, whatever that work is.

With the photo processing alone costing P ms of CPU, a path that also costs F ms per
submission can reach at most P / (P + F) of the photo limit on a machine it saturates;
the last line gives that ceiling for the F measured here.
"""

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from celery import Celery  # noqa: E402
from flask import Flask, redirect, request  # noqa: E402

from bench.stack import VENV_BIN, stop, wait_http  # noqa: E402
from bench.submit import (  # noqa: E402
    ACTION_RE,
    Client,
    busy_cpu_seconds,
    next_photo,
    phone_photos,
    photo_limit,
)

REDIS = os.environ.get("FLOOR_REDIS", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get("FLOOR_QUEUE", "floor")
UPLOADS = Path(os.environ.get("FLOOR_UPLOADS", tempfile.gettempdir()))
COUNTER = f"{QUEUE}:processed"
FORM = (
    '<form method="post" action="/lapor/{}" data-report-form>'
    '<input name="form_key" value="{}"></form>'
)

web = Flask(__name__)
web.secret_key = "floor"
worker = Celery("floor", broker=REDIS)
worker.conf.update(task_default_queue=QUEUE, task_acks_late=True, worker_prefetch_multiplier=1)


@worker.task(name="floor.store", ignore_result=True)
def store(path: str) -> None:
    """Read the upload, delete it and count the submission as processed."""
    Path(path).read_bytes()
    Path(path).unlink()
    _redis().incr(COUNTER)


@functools.cache
def _redis():
    """One Redis client per process, on the broker's server."""
    import redis

    return redis.Redis.from_url(REDIS)


@web.get("/healthz")
def healthz():
    """Ready."""
    return "ok"


@web.get("/q/<token>")
def form(token: str):
    """The poster link answers with the form, with a one-time key."""
    return FORM.format(token, uuid.uuid4().hex)


@web.post("/lapor/<token>")
def submit(token: str):
    """Parse the upload, keep it on disk, hand it to the worker, answer with a redirect."""
    path = UPLOADS / f"floor-{uuid.uuid4().hex}.jpg"
    request.files["photo"].save(path)
    store.delay(str(path))
    return redirect("/asn/laporan/1")


def run_client(port: int, photos: list[bytes], todo: list[int], lock, errors: list[int]):
    """Open the poster link, submit its form, until the counter runs out."""
    client = Client(port, "10.0.0.1")
    while (photo := next_photo(photos, todo, lock)) is not None:
        _status, _loc, html = client.request("GET", "/q/token")
        status, _loc, _html = client.post_form(ACTION_RE.search(html)[1], {"form_key": "k"}, photo)
        if status != 302:
            with lock:
                errors[0] += 1


def main() -> None:
    """Run the bare stack under the clients and print one JSON line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--submissions", type=int, default=320)
    parser.add_argument("--port", type=int, default=5078)
    args = parser.parse_args()

    queue = f"floor-{uuid.uuid4().hex[:8]}"
    uploads = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    env = {**os.environ, "FLOOR_QUEUE": queue, "FLOOR_UPLOADS": str(uploads), "FLOOR_REDIS": REDIS}
    photos = phone_photos(min(args.submissions, 64))
    commands = [
        [VENV_BIN / "gunicorn", "--bind", f"127.0.0.1:{args.port}", "--workers", "4",
         "--threads", "1", "--keep-alive", "30", "bench.submit_floor:web"],
        ["nice", "-n", "10", VENV_BIN / "celery", "-A", "bench.submit_floor:worker", "worker",
         "--loglevel", "ERROR", "--concurrency", str(os.cpu_count() or 2), "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-Q", queue],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(c, cwd=ROOT, env=env, stderr=subprocess.DEVNULL) for c in commands
    ]
    redis_client = _redis()
    counter = f"{queue}:processed"
    try:
        wait_http(args.port)
        time.sleep(3)  # let the worker bind its queue
        todo, lock, errors = [args.submissions], threading.Lock(), [0]
        threads = [
            threading.Thread(target=run_client, args=(args.port, photos, todo, lock, errors))
            for _ in range(args.clients)
        ]
        busy_before, start = busy_cpu_seconds(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        while int(redis_client.get(counter) or 0) < args.submissions - errors[0]:
            time.sleep(0.05)
        wall = time.perf_counter() - start
        busy = busy_cpu_seconds() - busy_before
    finally:
        stop(processes)
        redis_client.delete(counter)
        shutil.rmtree(uploads, ignore_errors=True)
    limit = photo_limit(photos)
    photo_ms = 1000 * (os.cpu_count() or 1) / limit
    floor_ms = 1000 * busy / args.submissions
    print(
        json.dumps(
            {
                "clients": args.clients,
                "submissions": args.submissions,
                "errors": errors[0],
                "wall_s": round(wall, 2),
                "rate_per_s": round(args.submissions / wall, 1),
                "floor_machine_cpu_ms_per_submission": round(floor_ms, 1),
                "photo_cpu_ms": round(photo_ms, 1),
                "ceiling_ratio": round(photo_ms / (photo_ms + floor_ms), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
