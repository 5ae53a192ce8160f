"""The real stack for the benchmarks that drive it over HTTP: gunicorn and a Celery worker.

Both run as they do in production (`wsgi:app`, `celery -A celery_worker worker`), on
loopback, with the environment of the benchmark's own database, broker and instance.
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def environment(name: str, postgres: str, redis: str) -> tuple[dict, Path, str, object]:
    """A fresh PostgreSQL database, a work folder and the settings of the whole stack.

    Returns (env, work folder, database URL, drop): call drop() to remove the database.
    """
    from tests.conftest import create_pg_database
    from tests.support import services

    services.POSTGRES_ADMIN_URL = postgres
    database_url, drop = create_pg_database()
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "PROMKM_QUEUE": f"{name}-{uuid.uuid4().hex[:8]}",
        "PROMKM_INSTANCE": str(work),
        "PROMKM_STORAGE": str(work / "storage"),
        "SECRET_KEY": f"bench-{name}",
        "PROXY_HOPS": "1",  # each client signs in from its own forwarded address
    }
    return env, work, database_url, drop


def add_service_arguments(parser) -> None:
    """--postgres and --redis: the servers a benchmark of the real stack uses."""
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")


def migrated_app(env: dict):
    """The app on a fresh database named by env: migrated, regions and settings loaded."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from promkm_qr import create_app, reference

    app = create_app()
    with app.app_context():
        upgrade()
        reference.load_regions(app.config["REGIONS_CSV"])
        reference.seed_defaults()
    return app


def start(env: dict, port: int, *, web_workers=4, web_threads=1, worker_concurrency=2,
          worker_pool="prefork", worker_nice=10, bind=None) -> list[subprocess.Popen]:  # fmt: skip
    """Start gunicorn and a worker; return once the web answers and the worker had time to bind.

    The worker runs niced so requests come first, as background work should. The web runs
    as the Procfile's: four single-threaded (sync) workers, behind a proxy that buffers
    uploads. Against 2 x 4 threads this halved the submission's p95 at the same throughput
    (docs/load.md): threads of one process wait on each other for the GIL. With `bind`
    (e.g. a unix socket behind nginx) the caller waits for the web itself.
    """
    child_env = {**os.environ, **env}
    # A proxy in front keeps client connections open in production; gunicorn's 2 s default
    # raced the clients' reuse of idle connections under load.
    web = [VENV_BIN / "gunicorn", "--bind", bind or f"127.0.0.1:{port}",
           "--workers", str(web_workers), "--threads", str(web_threads),
           "--keep-alive", "30", "wsgi:app"]  # fmt: skip
    worker = ["nice", "-n", str(worker_nice), VENV_BIN / "celery", "-A", "celery_worker",
              "worker", "--loglevel", "ERROR", "--pool", worker_pool, "--concurrency",
              str(worker_concurrency), "-Q", env["PROMKM_QUEUE"], "--without-gossip",
              "--without-mingle", "--without-heartbeat"]  # fmt: skip
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=child_env, stderr=subprocess.DEVNULL)
        for command in (web, worker)
    ]
    if not bind:
        wait_http(port)
    time.sleep(3)  # let the worker bind its queue
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate the processes and wait for them."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(30)


def wait_http(port: int) -> None:
    """Wait until gunicorn answers /healthz."""
    for _ in range(150):
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")
