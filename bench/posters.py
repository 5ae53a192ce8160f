"""Benchmark: print every stall's poster as the bulk job does, through real worker processes.

    .venv/bin/python bench/posters.py [--stalls 23600] [--concurrency 2] [--sample 100]

Builds N stalls across the 27 kelurahan (promkm_qr.demo.build_demo) in a fresh SQLite
database, starts `celery -A celery_worker worker --concurrency C`, runs one poster job for all
stalls and samples the resident memory of the worker processes from /proc while it runs.
The baseline, measured in the same run on a sample, is one process rendering one poster at a
time with `weasyprint.HTML(string=...).write_pdf()` and default arguments. The last line of
output is one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stack import migrated_app  # noqa: E402
from tests.support.worker import Worker  # noqa: E402


def _env(instance: Path) -> dict:
    """Settings shared by this process and the workers."""
    return {
        "PROMKM_INSTANCE": str(instance),
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{instance / 'bench.sqlite'}"
        ),
        "CELERY_BROKER_URL": os.environ.get(
            "BENCH_BROKER_URL", f"sqla+sqlite:///{instance / 'broker.sqlite'}"
        ),
        "CELERY_RESULT_BACKEND": f"db+sqlite:///{instance / 'results.sqlite'}",
        "PROMKM_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
        "PROMKM_STORAGE": str(instance / "storage"),
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": "https://promkm.madiunkota.go.id",
    }


def _rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """The process and all its descendants, found through /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError):
                continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def baseline(labels: list[dict], brand: dict) -> tuple[float, float]:
    """Posters per second, and CPU ms per poster, with one default write_pdf() per poster.

    Each poster is one whole HTML page, as a first version would print it: the static parts
    of background.html are put inside the stall's page of template.html, which gives the same
    poster that the job prints with the static parts drawn beneath.
    """
    from jinja2 import Environment, FileSystemLoader
    from weasyprint import HTML

    printables = ROOT / "printables"
    css = (printables / "_base" / "base.css").read_text() + (
        printables / "poster" / "style.css"
    ).read_text()
    env = Environment(loader=FileSystemLoader(printables), autoescape=True)
    static = env.get_template("poster/background.html").render(branding=brand)
    static = static.partition('<section class="page">')[2].partition("</section>")[0]
    template = env.get_template("poster/template.html")
    start, cpu = time.perf_counter(), time.process_time()
    for label in labels:
        html = template.render(stalls=[label], branding=brand)
        html = html.replace("</head>", f"<style>{css}</style></head>")
        html = html.replace('<section class="page">', '<section class="page">' + static)
        HTML(string=html).write_pdf()
    cpu_ms = (time.process_time() - cpu) * 1000 / len(labels)
    return len(labels) / (time.perf_counter() - start), cpu_ms


def main() -> None:
    """Build the data, measure the baseline, run the job through the workers, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stalls", type=int, default=23_600)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--sample", type=int, default=100, help="posters in the baseline sample")
    parser.add_argument("--format", default="poster", choices=["poster", "card", "stickers"])
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-posters-"))
    env = _env(instance)
    app = migrated_app(env)
    from sqlalchemy import select, update

    from promkm_qr.demo import build_demo
    from promkm_qr.extensions import db
    from promkm_qr.jobs import create_job
    from promkm_qr.models import Job, JobChunk, Stall
    from promkm_qr.stalls import posters

    with app.app_context():
        build_demo(stalls=args.stalls, asn=1, months=0)
        db.session.execute(update(Stall).values(status="active"))
        db.session.commit()
        ids = list(db.session.scalars(select(Stall.id).order_by(Stall.kelurahan_id, Stall.serial)))
        with app.test_request_context():
            sample = posters.stall_labels(ids[: args.sample])
            baseline_rate, baseline_cpu_ms = baseline(sample, posters.branding())

        # The same `celery -A celery_worker worker` command the tests start, with a prefork pool.
        worker = Worker(env, pool="prefork", concurrency=args.concurrency).process
        try:
            ping = create_job("ping")
            db.session.commit()
            while db.session.get(Job, ping.id).state != "done":
                app.extensions["celery"].send_task("promkm_qr.system.ping", args=[ping.id])
                time.sleep(1)
                db.session.rollback()
            job = create_job("posters", {"format": args.format, "stall_ids": ids})
            db.session.commit()
            peak_total = peak_process = 0.0
            cpu_before = sum(_cpu_s(pid) for pid in _tree(worker.pid))
            start = time.perf_counter()
            app.extensions["celery"].send_task("promkm_qr.stalls.print_posters", args=[job.id])
            while True:
                rss = [_rss_mb(pid) for pid in _tree(worker.pid)]
                peak_total, peak_process = max(peak_total, sum(rss)), max(peak_process, *rss)
                db.session.rollback()
                state = db.session.get(Job, job.id)
                if state.state in ("done", "failed"):
                    break
                time.sleep(0.5)
            wall = time.perf_counter() - start
            cpu = sum(_cpu_s(pid) for pid in _tree(worker.pid)) - cpu_before
            chunks = db.session.execute(
                select(JobChunk.worker_pid, JobChunk.rss_kb)
                .where(JobChunk.job_id == job.id)
                .order_by(JobChunk.finished_at)
            ).all()
            result = Path(env["PROMKM_STORAGE"]) / (state.result_key or "-")
            pages = result.stat().st_size if result.is_file() else 0
        finally:
            worker.terminate()
            worker.wait(30)

    per_worker: dict[int, list[int]] = {}
    for pid, rss_kb in chunks:
        per_worker.setdefault(pid, []).append(round(rss_kb / 1024))
    rate = len(ids) / wall
    print(
        json.dumps(
            {
                "stalls": len(ids),
                "state": state.state,
                "format": args.format,
                "concurrency": args.concurrency,
                "chunk_size": posters.CHUNK_SIZE,
                "wall_s": round(wall, 1),
                "rate_per_s": round(rate, 1),
                "baseline_rate_per_s": round(baseline_rate, 1),
                "speedup_x": round(rate / baseline_rate, 1),
                # CPU cost per poster, which does not depend on what else shares the machine.
                "cpu_ms_per_poster": round(cpu * 1000 / len(ids), 1),
                "baseline_cpu_ms_per_poster": round(baseline_cpu_ms, 1),
                "load_avg_1m": round(os.getloadavg()[0], 1),
                "peak_rss_mb": round(peak_total),
                "peak_process_rss_mb": round(peak_process),
                "pdf_mb": round(pages / 1e6, 1),
                "chunk_rss_mb": {
                    str(pid): {"first": v[0], "last": v[-1], "max": max(v), "chunks": len(v)}
                    for pid, v in per_worker.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
