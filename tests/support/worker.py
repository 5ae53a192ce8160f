"""A real Celery worker process for tests, started from the project's celery_worker.py."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """A running `celery -A celery_worker worker` subprocess."""

    def __init__(
        self, env: dict, *, pool: str = "solo", concurrency: int = 1, log=None, loglevel="WARNING"
    ):
        # The node name, so that control commands (inspect) can address this worker alone.
        self.name = f"test-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "celery_worker",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            env["PROMKM_QUEUE"],
            "-n",
            self.name,
        ]
        self.log = log
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, timeout: float = 20) -> None:
        """Warm shutdown; kill if it does not stop in time."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (the whole process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)
