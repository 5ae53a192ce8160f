"""Exactly one beat: a second `celery beat`, on this machine or another, refuses to run.

Two beats would send every periodic task twice (two monthly batches, two flushes racing).
The beat holds a lock before it opens its schedule: a Redis key (SET NX with an expiry it
renews on every tick) when the broker is Redis, so beats on different machines see each
other; otherwise (a laptop on the embedded broker) an flock on a file beside the schedule.
A beat whose process dies loses the Redis lock after LOCK_TTL seconds, so a standby beat
started again by systemd then takes over.
"""

import contextlib
import fcntl
import logging
import os
import socket
import sys
import time
import uuid
from pathlib import Path

from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)

LOCK_TTL = 60  # seconds a dead beat keeps the lock
RENEW_EVERY = 10  # seconds between renewals (ticks are at most this far apart)

# Renew or release only a lock this beat still holds (another may have taken it after expiry).
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class BeatLockHeld(SystemExit):
    """Another beat runs: exit with status 1 and say who holds the lock."""

    def __init__(self, where: str, holder: str):
        message = (
            f"celery beat refused to start: another beat holds the lock {where} ({holder}). "
            "Only one beat may run for a deployment; stop the other one first. "
            f"A beat that died releases the lock within {LOCK_TTL} s."
        )
        print(message, file=sys.stderr, flush=True)
        super().__init__(1)


class RedisLock:
    """The lock as a Redis key holding the owner's host, pid and a random token."""

    def __init__(self, url: str, key: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self.key = key
        self.token = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        self.renewed = 0.0

    def acquire(self) -> None:
        if not self.client.set(self.key, self.token, nx=True, ex=LOCK_TTL):
            holder = self.client.get(self.key)
            raise BeatLockHeld(f"redis key {self.key}", (holder or b"?").decode())
        self.renewed = time.monotonic()

    def renew(self) -> None:
        """Extend the expiry; exit if another beat took the lock meanwhile."""
        import redis

        if time.monotonic() - self.renewed < RENEW_EVERY / 2:
            return
        try:
            held = self.client.eval(_RENEW, 1, self.key, self.token, LOCK_TTL)
        except redis.RedisError as exc:
            # Redis is the broker too: nothing can be sent now. Keep running; the next tick
            # tries again, and finds out if another beat took over meanwhile.
            log.warning("beat lock not renewed: %s", exc)
            return
        if not held:
            log.error("beat lock %s lost to another beat; this beat stops", self.key)
            raise SystemExit(1)
        self.renewed = time.monotonic()

    def release(self) -> None:
        import redis

        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            self.client.eval(_RELEASE, 1, self.key, self.token)


class FileLock:
    """The lock as an flock on a file: beats on one machine only (no Redis)."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise BeatLockHeld(f"file {self.path}", holder) from None
        handle.truncate(0)
        handle.write(f"{socket.gethostname()} pid {os.getpid()}\n")
        handle.flush()
        self.handle = handle

    def renew(self) -> None:
        pass  # held until the process ends

    def release(self) -> None:
        if self.handle:
            self.handle.close()


def make_lock(broker_url: str, queue: str, schedule_file: str) -> RedisLock | FileLock:
    """The lock suiting the broker; the queue names the deployment (tests use their own)."""
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisLock(broker_url, f"promkm:beat-lock:{queue}")
    return FileLock(Path(f"{schedule_file}.lock"))


class SingleBeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler behind the single-beat lock."""

    def setup_schedule(self):
        conf = self.app.conf
        self.beat_lock = make_lock(conf.broker_url, conf.task_default_queue, self.schedule_filename)
        # Before the schedule file is opened: a refused beat must not touch it.
        self.beat_lock.acquire()
        log.info("beat lock acquired")
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        self.beat_lock.renew()
        return min(super().tick(*args, **kwargs), RENEW_EVERY)

    def close(self):
        super().close()
        self.beat_lock.release()
