"""Benchmark: a Madiun-scale month's documents through real workers, against a naive baseline.

    python bench/recaps.py [--stalls 23600] [--asn 6000] [--reports 60000] [--sample 60]

Builds the month on a fresh PostgreSQL database (build_demo skews sales by stall rank), runs
the whole monthly batch through one prefork worker with 2 processes on Redis, and samples the
pool processes' RSS as the batch goes; the pool's wall time is split into running, crowded
out (ready, but other processes held the cores) and asleep (/proc/PID/schedstat). The
baseline renders a sample of the same documents in this process the naive way: a fresh
`weasyprint.HTML(string=...).write_pdf()` per document (new font configuration, stylesheets
parsed each time). The last line is one JSON object.
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

from sqlalchemy import text  # noqa: E402

from bench.pool_states import sched_s  # noqa: E402
from tests.conftest import create_pg_database  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.worker import Worker  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far, from /proc."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def pool_pids(worker: Worker) -> list[int]:
    """The worker's prefork pool processes."""
    pid = worker.process.pid
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def build(args, period: str) -> int:
    """The month's data, every report moved into the period; returns the report count."""
    from flask_migrate import upgrade

    from promkm_qr import reference
    from promkm_qr.demo import build_demo
    from promkm_qr.documents.data import period_bounds
    from promkm_qr.extensions import db

    upgrade()
    reference.load_regions(os.environ.get("REGIONS_CSV") or reference_csv())
    reference.seed_defaults()
    counts = build_demo(stalls=args.stalls, asn=args.asn, months=1, reports_per_month=args.reports)
    start, _ = period_bounds(period)
    # Spread over the month's 28 first days, 07:00-16:59 WIB, as build_demo does over 30 days.
    db.session.execute(
        text(
            "UPDATE purchase_reports SET purchased_at = :start + make_interval("
            "days => id % 28, hours => id % 10)"
        ),
        {"start": start},
    )
    db.session.commit()
    return counts["reports"]


def reference_csv() -> str:
    """The region list shipped with the app."""
    return str(ROOT / "promkm_qr" / "data" / "wilayah_kota_madiun.csv")


def baseline(period: str, sample: int) -> tuple[float, int]:
    """Documents per second rendering a sample naively, one fresh WeasyPrint run each.

    Only template.html is rendered: the letterhead and the signature block, which the app
    lays out once per batch as shared forms, are left out, so the baseline does less than a
    whole document and the speedup it gives is understated.
    """
    import weasyprint
    from sqlalchemy import select

    from promkm_qr.core.pdf import BASE_CSS, get_renderer
    from promkm_qr.documents.kinds import KINDS, common_context, document_context
    from promkm_qr.extensions import db
    from promkm_qr.models import AsnProfile, Stall

    renderer = get_renderer()
    common = common_context()
    # Receipts and recaps are nearly all of a month's documents, in about this proportion.
    asn = [str(i) for i in db.session.scalars(select(AsnProfile.user_id).limit(sample // 2))]
    owners = select(Stall.owner_id).distinct().limit(sample - len(asn))
    merchants = [str(i) for i in db.session.scalars(owners)]
    plan = [("asn_receipt", asn), ("merchant_recap", merchants)]
    started, count = time.perf_counter(), 0
    for kind, subjects in plan:
        data = KINDS[kind].build(period, subjects)
        printable = KINDS[kind].printable
        for subject in subjects:
            context = document_context(common, kind, period, "baseline", data[subject])
            html = renderer.env.get_template(f"{printable}/template.html").render(context)
            folder = renderer.root / printable
            sheets = [
                weasyprint.CSS(filename=BASE_CSS),
                weasyprint.CSS(filename=folder / "style.css"),
            ]
            weasyprint.HTML(string=html, base_url=str(folder) + "/").write_pdf(stylesheets=sheets)
            count += 1
    return count / (time.perf_counter() - started), count


def run_batch(env: dict, period: str, log) -> dict:
    """The whole month through a 2-process prefork worker; rate, wall time and RSS samples."""
    from celery import Celery

    from promkm_qr.extensions import db
    from promkm_qr.jobs import create_job
    from promkm_qr.models import Job

    worker = Worker(env, pool="prefork", concurrency=2, log=log)
    sender = Celery(broker=env["CELERY_BROKER_URL"])
    sender.conf.task_default_queue = env["PROMKM_QUEUE"]
    try:
        time.sleep(1)
        while len(pool_pids(worker)) < 2:
            time.sleep(0.5)
        job = create_job("documents", {"period": period})
        db.session.commit()
        processes = [worker.process.pid, *pool_pids(worker)]
        pool = processes[1:]
        cpu_before, sched_before = cpu_s(processes), sched_s(pool)
        started = time.perf_counter()
        sender.send_task("promkm_qr.documents.batch", args=[job.id])
        samples, peak = [], 0.0
        while True:
            time.sleep(1)
            db.session.rollback()
            job = db.session.get(Job, job.id)
            pids = pool_pids(worker)
            rss = max(rss_mb(p) for p in pids)
            peak = max(peak, rss)
            samples.append((job.done, round(rss, 1)))
            if job.state in ("done", "failed"):
                break
        wall = time.perf_counter() - started
        cpu = cpu_s(processes) - cpu_before
        ran, waited = sched_s(pool)
        ran, waited = ran - sched_before[0], waited - sched_before[1]
    finally:
        worker.stop(60)
        sender.close()
    # RSS at each tenth of the batch: flat means no leak from the first chunk to the last.
    step = max(job.total // 10, 1)
    by_progress, mark = [], 0
    for done, rss in samples:
        if done >= mark:
            by_progress.append({"done": done, "rss_mb": rss})
            mark = done + step
    return {
        "documents": job.done,
        "failed": job.failed,
        "wall_s": round(wall, 1),
        "rate_per_s": round(job.done / wall, 2),
        # CPU per document depends far less than wall time on what else shares the machine.
        "cpu_ms_per_document": round(cpu * 1000 / max(job.done, 1), 1),
        "peak_rss_mb": round(peak, 1),
        # Where the pool's 2 cores of wall time went: running, ready but crowded out by
        # other processes on the machine, or asleep (waiting for a task, the database, disk).
        "pool_cores_running": round(ran / wall, 2),
        "pool_cores_crowded_out": round(waited / wall, 2),
        "pool_cores_asleep": round(len(pool) - (ran + waited) / wall, 2),
        "rss_mb_by_progress": by_progress,
        "job_state": job.state,
    }


def main() -> None:
    """Build, measure the baseline, run the batch, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stalls", type=int, default=23_600)
    parser.add_argument("--asn", type=int, default=6_000)
    parser.add_argument("--reports", type=int, default=60_000)
    parser.add_argument("--sample", type=int, default=60)
    parser.add_argument("--period", default="2026-10")
    args = parser.parse_args()

    database_url, drop = create_pg_database()
    instance = Path(tempfile.mkdtemp(prefix="bench-recaps-"))
    env = {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": services.REDIS_URL,
        "CELERY_RESULT_BACKEND": services.REDIS_URL,
        "PROMKM_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
        "PROMKM_INSTANCE": str(instance),
        "PROMKM_STORAGE": str(instance / "storage"),
        "SECRET_KEY": "bench",
    }
    os.environ.update(env)
    from promkm_qr import create_app

    app = create_app()
    try:
        with app.app_context():
            t0 = time.perf_counter()
            reports = build(args, args.period)
            print(f"built {reports} reports in {time.perf_counter() - t0:.0f} s", flush=True)
            base_rate, base_n = baseline(args.period, args.sample)
            print(f"baseline {base_n} documents: {base_rate:.2f}/s", flush=True)
            with (instance / "worker.log").open("w+b") as log:
                result = run_batch(env, args.period, log)
            from promkm_qr.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
    result.update(
        stalls=args.stalls,
        asn=args.asn,
        reports=reports,
        baseline_rate_per_s=round(base_rate, 2),
        baseline_documents=base_n,
        speedup_x=round(result["rate_per_s"] / base_rate, 2),
        load_avg_1m=round(os.getloadavg()[0], 1),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
