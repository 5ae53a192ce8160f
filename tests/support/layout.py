"""The production layout from the deploy/ files, started on this machine without systemd.

The processes run the units' own ExecStart lines (deploy/systemd/), with the unit's paths
(/opt/promkm-qr, /run/promkm-qr) moved to this checkout and a temporary folder; nginx runs
Debian's binary on the site file of deploy/nginx/ with its placeholders filled in.
"""

import configparser
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import redis

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_DIR = "/opt/promkm-qr"
RUN_DIR = "/run/promkm-qr"
PASSWORD = "rahasia-123"


def exec_start(unit: str, run_dir: Path, instance: str = "1") -> list[str]:
    """The unit's ExecStart as an argument list, its paths and %-specifiers filled in."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / unit)
    line = parser["Service"]["ExecStart"]
    line = line.replace(APP_DIR, str(ROOT)).replace(RUN_DIR, str(run_dir))
    line = line.replace("%i", instance).replace("%H", socket.gethostname())
    return shlex.split(line)


def nginx_site(values: dict[str, str]) -> str:
    """deploy/nginx/promkm-qr.conf with every @NAME@ placeholder replaced."""
    text = (DEPLOY / "nginx" / "promkm-qr.conf").read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"placeholders of the nginx site left unfilled: {left}"
    return text


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


class Nginx:
    """Debian's nginx serving the site file, in the foreground, from a private prefix."""

    def __init__(self, folder: Path, site: str):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        services.need("nginx", os.path.exists(nginx), "install the Debian package nginx")
        self.folder = folder
        (folder / "site.conf").write_text(site)
        temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir()
        # As root the workers would switch to `nobody`, who may not enter pytest's private
        # temporary folders; the city's nginx runs them as www-data (the socket's group).
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/site.conf;
}}
"""
        )
        config = ["-p", str(folder), "-c", str(folder / "nginx.conf")]
        check = subprocess.run([nginx, "-t", *config], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [nginx, *config, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Fast shutdown."""
        stop_process(self.process)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process's group (gunicorn's and celery's children too), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


class Machine:
    """One machine's processes: its own instance folder, the shared database, Redis, storage."""

    def __init__(self, name: str, env: dict, folder: Path):
        self.name = name
        self.folder = folder
        self.instance = folder / "instance"
        self.instance.mkdir(parents=True)
        self.env = {**env, "PROMKM_INSTANCE": str(self.instance)}
        self.processes: list[subprocess.Popen] = []

    def start(self, argv: list[str], log_name: str) -> subprocess.Popen:
        """Start a process with this machine's environment, its output in a log file."""
        log = (self.folder / f"{log_name}.log").open("wb")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def web(self, bind: str | None = None, timeout: int | None = None) -> subprocess.Popen:
        """The web unit's gunicorn; on its unix socket unless another bind is given."""
        argv = exec_start("promkm-web.service", self.folder)
        if bind:
            argv[argv.index("--bind") + 1] = bind
        if timeout:
            argv += ["--timeout", str(timeout)]  # the last one wins
        return self.start(argv, "web")

    def worker(self, number: str) -> subprocess.Popen:
        """The worker unit's celery worker, instance `number`."""
        return self.start(exec_start("promkm-worker@.service", self.folder, number), "worker")

    def beat(self, log_name: str = "beat") -> subprocess.Popen:
        """The beat unit's celery beat."""
        return self.start(exec_start("promkm-beat.service", self.folder), log_name)

    def log(self, name: str) -> str:
        """A process's output so far."""
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop every process of this machine."""
        for process in reversed(self.processes):
            stop_process(process)


def layout_env(database_url: str, storage: Path, **extra: str) -> dict:
    """The settings every machine shares (deploy/.env.example), for a fresh database and queue."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": services.REDIS_URL,
        # The test session's own broker settings must not leak into the layout's processes.
        "CELERY_BROKER_URL": services.REDIS_URL,
        "CELERY_RESULT_BACKEND": services.REDIS_URL,
        "PROMKM_QUEUE": f"layout-{uuid.uuid4().hex[:8]}",
        "PROMKM_STORAGE": str(storage),
        "SECRET_KEY": uuid.uuid4().hex,
        "QR_SIGNING_KEYS": "layout-key-2,layout-key-1",
        **extra,
    }


def forget_queue(env: dict) -> None:
    """Delete the queue and the beat lock a layout left in the shared Redis."""
    client = redis.Redis.from_url(services.REDIS_URL)
    client.delete(env["PROMKM_QUEUE"], f"promkm:beat-lock:{env['PROMKM_QUEUE']}")
    client.close()


def wait_for(check, timeout: float, what: str, interval: float = 0.3):
    """Call check until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def wait_socket(path: Path, timeout: float = 60) -> None:
    """Wait until gunicorn accepts connections on its unix socket."""

    def accepting() -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(path))
            return True
        except OSError:
            return False

    wait_for(accepting, timeout, f"gunicorn on {path}")
