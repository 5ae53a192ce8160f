"""Throw-away PostgreSQL and Redis servers on free ports, for tests that stop and start them.

They run from the installed server binaries in a temporary directory, so stopping them
disturbs nothing else on the machine. PostgreSQL refuses to run as root; as root the
server runs as the `postgres` system user.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, up: bool = True, timeout: float = 30) -> None:
    """Wait until the port accepts connections (or, with up=False, refuses them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} did not become {'reachable' if up else 'closed'}")


def postgres_bin() -> Path | None:
    """The directory of the newest installed PostgreSQL server binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class TempPostgres:
    """A private PostgreSQL cluster: start, stop, restart, url."""

    def __init__(self):
        self.bin = postgres_bin()
        # Not under pytest's tmp_path: the postgres user cannot enter root's private dirs.
        self.root = Path(tempfile.mkdtemp(prefix="promkm-pg-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's postgres database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.root / "pg.log"),
            "start",
        )
        wait_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: "fast" cuts open connections and writes a checkpoint;
        "immediate" kills every process as a crash would (WAL recovery on the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        wait_port(self.port, up=False)

    def remove(self) -> None:
        """Stop if running and delete the cluster's files."""
        with contextlib.suppress(subprocess.CalledProcessError, TimeoutError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class TempRedis:
    """A private Redis server: start, stop, url.

    With persist=True it keeps its data across a stop and start (append-only file), as a
    production broker must; otherwise a stop loses everything, as with this machine's Redis.
    """

    def __init__(self, root: Path, persist: bool = False):
        self.root = root
        self.port = free_port()
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Redis URL of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persist else "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        """Stop the server (SIGTERM: a persisting server writes its data first)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        wait_port(self.port, up=False)
