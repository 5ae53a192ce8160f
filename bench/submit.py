"""Benchmark of the scan -> form -> submit path against gunicorn, PostgreSQL, Redis and a worker.

    python bench/submit.py [--clients 32] [--submissions 640]

N clients (each a signed-in ASN) open the poster URL (the form) and submit it with a 1600 px
~300 KB JPEG, until every submission is fully processed by the worker (stored, re-encoded,
thumbnail made) and the worker's queue is empty: messages of uploads a batch took earlier
still cost a task each. In the same run it measures the limit: the same Pillow processing
alone on all cores, before and after the run. Prints progress lines, then one JSON line.

This machine's speed drifts (the limit has moved from 35 to 52 photos/s within one run), so
the ratio of one run can be off by a tenth either way. The JSON line also gives the worker's
share of the machine's busy time during the run: the photo work is part of the worker's, so
on a machine of steady speed the ratio stays below that share, and the share does not move
with the drift.
"""

import argparse
import io
import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import threading
import time
import uuid
from http.client import HTTPConnection, RemoteDisconnected
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import stack  # noqa: E402
from bench.stack import migrated_app  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402

SERVICES = ("postgres", "redis-server")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="form_key"[^>]*value="([^"]+)"')
ACTION_RE = re.compile(r'action="([^"]+)"[^>]*data-report-form')


def phone_photo(target_bytes: int = 300_000, seed: int = 0, quality: int | None = None) -> bytes:
    """A 1600x1200 photo-like JPEG of about the target size, as a phone would send it.

    Each seed draws different shapes, so photos differ in content (and perceptual hash) as
    real ones do: the same photo sent again and again would be flagged as reused by the rules.
    """
    from PIL import Image, ImageDraw, ImageFilter

    gradient = Image.linear_gradient("L").resize((1600, 1200))
    noise = Image.effect_noise((1600, 1200), 60).filter(ImageFilter.GaussianBlur(1.2))
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180)))
    draw, rng = ImageDraw.Draw(image), random.Random(seed)
    for _ in range(8):
        x, y = rng.randrange(1400), rng.randrange(1000)
        box = (x, y, x + rng.randrange(100, 600), y + rng.randrange(100, 500))
        draw.ellipse(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    best = b""
    for q in [quality] if quality else range(95, 30, -5):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=q)
        best = buffer.getvalue()
        if len(best) <= target_bytes:
            break
    return best


def phone_photos(count: int) -> list[bytes]:
    """Count different photos of about 300 KB (the JPEG quality found once, for the first)."""
    first = phone_photo()
    quality = next(q for q in range(95, 30, -5) if len(phone_photo(quality=q)) <= 300_000)
    return [first] + [phone_photo(seed=i, quality=quality) for i in range(1, count)]


def _process(photo: bytes) -> int:
    from promkm_qr.core.photos import process_photo

    return len(process_photo(photo).jpeg)


def photo_limit(photos: list[bytes]) -> float:
    """Photos per second of process_photo alone on every core (no web, no database)."""
    with multiprocessing.Pool(os.cpu_count()) as pool:
        pool.map(_process, photos[: os.cpu_count() or 1])  # warm up the imports
        start = time.perf_counter()
        pool.map(_process, photos, chunksize=1)
        return len(photos) / (time.perf_counter() - start)


def prepare(app, clients: int) -> tuple[list[str], str]:
    """One ASN per client and an active stall, in the app's (freshly migrated) database."""
    from promkm_qr.stalls.links import link_token
    from tests.factories import make_asn, make_opd, make_stall

    with app.app_context():
        opd = make_opd()
        nips = [make_asn(opd=opd).nip for _ in range(clients)]
        stall = make_stall(name="Warung Bench")
        return nips, link_token(stall.code, stall.poster_version)


class Client:
    """One phone: a keep-alive HTTP connection with a cookie and a forwarded address."""

    def __init__(self, port: int, address: str):
        self.connection = HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.address = address

    def request(self, method: str, path: str, body: bytes = b"", content_type: str = ""):
        """Send one request; returns (status, location, text)."""
        headers = {"X-Forwarded-For": self.address, "Cookie": self.cookie}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            self.connection.request(method, path, body=body or None, headers=headers)
            response = self.connection.getresponse()
        except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection; browsers resend on a fresh
            # one, which is safe for the POST too: it carries its one-time key.
            self.connection.close()
            self.connection.request(method, path, body=body or None, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, response.getheader("Location", ""), data.decode("utf-8", "replace")

    def post_form(self, path: str, fields: dict, photo: bytes | None = None):
        """POST multipart/form-data."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        if photo is not None:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="foto.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                + photo
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}")


def next_photo(photos: list[bytes], todo: list[int], lock) -> bytes | None:
    """Take one submission off the shared counter: its photo, or None when none is left."""
    with lock:
        if todo[0] <= 0:
            return None
        todo[0] -= 1
        return photos[todo[0] % len(photos)]


def run_client(port, index, nip, token, photos, todo, results, lock, ready):
    """Sign in, wait for every client, then report purchases until the counter runs out."""
    from promkm_qr.core.dates import now_wib

    client = Client(port, f"10.0.{index // 250}.{index % 250 + 1}")
    _status, _loc, html = client.request("GET", "/auth/masuk")
    fields = {"csrf_token": CSRF_RE.search(html).group(1), "role": "asn", "identifier": nip}
    status, _loc, _html = client.post_form("/auth/masuk", {**fields, "password": PASSWORD})
    # Sign-in hashes a password on purpose (slow); it is not part of the measured path.
    ready.wait()
    if status != 302:
        print(f"client {index}: sign-in answered {status}", file=sys.stderr)
        with lock:
            results["errors"] += 1
        return
    while (photo := next_photo(photos, todo, lock)) is not None:
        try:
            # The poster link answers a signed-in ASN with the form (code before d1ffc3b
            # redirected to it).
            form_path = f"/q/{token}"
            status, location, html = client.request("GET", form_path)
            if status == 302:
                form_path = location
                _status, _loc, html = client.request("GET", form_path)
            if action := ACTION_RE.search(html):
                form_path = action[1]
            if not KEY_RE.search(html):
                # Counted by status: a 429 is the poster link's per-client limit, which a
                # client without think time can reach.
                raise RuntimeError(f"the poster link answered {status} without a form")
            fields = {
                "csrf_token": CSRF_RE.search(html).group(1),
                "form_key": KEY_RE.search(html).group(1),
                "amount": "Rp25.000",
                "goods_category": "makanan",
                "description": "Pecel",
                "purchased_at": now_wib().strftime("%Y-%m-%dT%H:%M"),
                "payment_method": "tunai",
            }
            start = time.perf_counter()
            status, location, _html = client.post_form(form_path, fields, photo)
            elapsed = (time.perf_counter() - start) * 1000
        except Exception as exc:  # a benchmark counts failures instead of stopping
            print(f"client {index}: {exc!r}", file=sys.stderr)
            status, location, elapsed = 0, "", 0
        with lock:
            if status == 302 and "/asn/laporan/" in location:
                results["latencies"].append(elapsed)
                results["ok_keys"].add(fields["form_key"])
            else:
                print(f"client {index}: submit answered {status}", file=sys.stderr)
                results["errors"] += 1


def _processes():
    """(pid, parent pid, command name, CPU seconds) of every live process, from /proc.

    A process's CPU includes that of its children it has reaped (a gunicorn worker or a
    pool process that was replaced, a PostgreSQL backend whose connection closed).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # the process ended meanwhile
        fields = tail.split()
        cpu = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
        yield int(stat.parent.name), int(fields[1]), head.split("(", 1)[1], cpu


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process tree has used so far (the process and its live children)."""
    return sum(cpu for own, parent, _name, cpu in _processes() if pid in (own, parent))


def named_cpu_seconds(names: tuple[str, ...]) -> float:
    """CPU seconds used so far by the live processes with these command names."""
    return sum(cpu for _own, _parent, name, cpu in _processes() if name in names)


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent not idle (all cores), from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user, nice, system, irq, softirq: not idle or iowait, nor steal (this virtual
    # machine's time given to others, 2-5 % here even when idle).
    return (sum(fields[:3]) + fields[5] + fields[6]) / ticks


def processed_count(monitor) -> tuple[int, int, int]:
    """(reports, uploads processed, uploads failed) straight from the database.

    monitor is one connection kept for the whole run: a connection per poll made
    PostgreSQL start a backend each time (~10 ms of the machine's CPU, ten times a second
    while the worker drains), which the run then counted as the stack's work.
    """
    return monitor.execute(
        "SELECT (SELECT count(*) FROM purchase_reports),"
        " count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'failed')"
        " FROM photo_uploads"
    ).fetchone()


def queue_idle(broker, queue: str) -> bool:
    """Whether the worker's queue is empty and no message it took is unacknowledged.

    Messages whose upload a batch already took still cost the worker a task each; the run
    is over only once they are consumed too.
    """
    if broker.llen(queue):
        return False
    # Kombu keeps every queue's taken messages in one hash: [message, exchange, queue].
    return all(json.loads(taken)[2] != queue for taken in broker.hvals("unacked"))


def main() -> None:
    """Run the benchmark and print one JSON line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--submissions", type=int, default=640)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=1)
    parser.add_argument("--worker-concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--worker-pool", default="prefork", choices=["prefork", "threads"])
    parser.add_argument(
        "--worker-nice", type=int, default=10, help="background work yields to requests"
    )
    parser.add_argument("--port", type=int, default=5077)
    stack.add_service_arguments(parser)
    args = parser.parse_args()

    env, _work, database_url, drop = stack.environment("submit", args.postgres, args.redis)
    photos = phone_photos(args.submissions)
    # The limit is taken before and after the run: this machine's speed drifts within minutes.
    # 256 photos (~5 s each time) rather than 64: a short pause of the machine weighs less.
    sample = photos[: max(256, 8 * (os.cpu_count() or 1))]
    limit_before = photo_limit(sample)
    processes = []
    monitor = psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True)
    try:
        nips, token = prepare(migrated_app(env), args.clients)
        processes = stack.start(
            env,
            args.port,
            web_workers=args.web_workers,
            web_threads=args.web_threads,
            worker_concurrency=args.worker_concurrency,
            worker_pool=args.worker_pool,
            worker_nice=args.worker_nice,
        )
        print(f"photos ~{len(photos[0])} bytes; {args.clients} clients", file=sys.stderr)

        results = {"latencies": [], "errors": 0, "ok_keys": set()}
        todo, lock = [args.submissions], threading.Lock()
        ready = threading.Barrier(args.clients + 1)
        threads = [
            threading.Thread(
                target=run_client,
                args=(args.port, i, nips[i], token, photos, todo, results, lock, ready),
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        ready.wait()
        cpu_before = [cpu_seconds(p.pid) for p in processes]
        services_before, busy_before = named_cpu_seconds(SERVICES), busy_cpu_seconds()
        client_before = time.process_time()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        submitted_s = time.perf_counter() - start
        accepted = len(results["ok_keys"])
        deadline = time.monotonic() + 600
        while True:
            reports, done, failed = processed_count(monitor)
            if done + failed >= reports or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        processed_s = time.perf_counter() - start
        with redis.Redis.from_url(args.redis) as broker:
            while not queue_idle(broker, env["PROMKM_QUEUE"]) and time.monotonic() < deadline:
                time.sleep(0.05)
        wall = time.perf_counter() - start
        # Read before they are stopped: a process's exit (freeing its heap, a last garbage
        # collection) is not work of the run; reading CPU at wait4 counted it (docs/load.md).
        cpu_after = [cpu_seconds(p.pid) for p in processes]
        client_cpu = time.process_time() - client_before
        services_cpu = named_cpu_seconds(SERVICES) - services_before
        busy_cpu = busy_cpu_seconds() - busy_before
        print(
            f"submitted in {submitted_s:.1f}s, processed in {processed_s:.1f}s, "
            f"queue drained in {wall:.1f}s",
            file=sys.stderr,
        )
    finally:
        monitor.close()
        stack.stop(processes)
    limit_after = photo_limit(sample)
    limit = (limit_before + limit_after) / 2
    drop()
    latencies = sorted(results["latencies"])
    rate = done / wall
    print(
        json.dumps(
            {
                "clients": args.clients,
                "submissions": args.submissions,
                "photo_kb": round(sum(map(len, photos)) / len(photos) / 1000),
                "rate_per_s": round(rate, 2),
                "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
                "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)
                if latencies
                else None,
                "errors": results["errors"] + failed,
                "lost": max(0, accepted - done),
                "duplicated": max(0, reports - accepted),
                "wall_s": round(wall, 2),
                "drain_s": round(wall - processed_s, 2),
                "web_cpu_ms_per_submission": round(
                    1000 * (cpu_after[0] - cpu_before[0]) / max(1, done), 1
                ),
                "worker_cpu_ms_per_submission": round(
                    1000 * (cpu_after[1] - cpu_before[1]) / max(1, done), 1
                ),
                # The rest of the machine's budget: this process's clients (and its polling
                # of the database), PostgreSQL and Redis, and everything busy on all cores.
                "client_cpu_ms_per_submission": round(1000 * client_cpu / max(1, done), 1),
                "postgres_redis_cpu_ms_per_submission": round(
                    1000 * services_cpu / max(1, done), 1
                ),
                "machine_cpu_ms_per_submission": round(1000 * busy_cpu / max(1, done), 1),
                "photo_cpu_ms": round(1000 * (os.cpu_count() or 1) / limit, 1),
                "limit_rate_per_s": round(limit, 2),
                "limit_before_after_per_s": [round(limit_before, 2), round(limit_after, 2)],
                "ratio": round(rate / limit, 3),
                # The worker's share of the machine's busy time in the same run: the ratio's
                # ceiling (the worker also claims, commits and runs the rules), untouched by
                # the machine's speed drifting between the limit's measurements and the run.
                "worker_share_of_machine": round(
                    (cpu_after[1] - cpu_before[1]) / max(busy_cpu, 1e-9), 3
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
