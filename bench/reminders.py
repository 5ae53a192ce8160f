"""Merchant digests for a whole city: composed, stored and handed to WhatsApp.

Loads a fresh PostgreSQL database with --stalls merchants, one stall each, and --waiting
reports waiting for confirmation spread over every stall; starts a loopback stand-in of the
WhatsApp Cloud API (tests/notifications/loopback.py, which checks each request's format);
then times the composition (one digest per merchant, in-app and WhatsApp rows, outbox
messages) and the delivery of every WhatsApp row through the delivery task's code in
--workers processes (started beforehand, as Celery workers are), taking the id batches the
outbox messages carry. Usage:

    python bench/reminders.py --stalls 23600 --waiting 60000 --workers 2

The database is made by the tests' helper (tests/conftest.py: create_pg_database, on
TEST_POSTGRES_URL's server) and dropped at the end unless --keep. The last line is one
JSON object.
"""

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text


def _app(api_url: str):
    """The real app on the bench database (DATABASE_URL), sending WhatsApp to the loopback
    server."""
    os.environ.setdefault("PROMKM_INSTANCE", "/tmp/promkm-bench-reminders")
    from promkm_qr import create_app
    from tests.notifications.loopback import PHONE_ID, TOKEN

    return create_app(
        {
            "TESTING": True,
            "WHATSAPP_API_URL": api_url,
            "WHATSAPP_TOKEN": TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
        }
    )


def load(app, args) -> float:
    """Create, migrate and fill the database; seconds taken."""
    from flask_migrate import upgrade

    from promkm_qr import reference
    from promkm_qr.extensions import db

    started = time.perf_counter()
    with app.app_context():
        upgrade()
        reference.load_regions(app.config["REGIONS_CSV"])
        reference.seed_defaults()
        run = lambda sql, **p: db.session.execute(text(sql), p)  # noqa: E731
        run(
            "INSERT INTO users (role, name, phone, active, session_version, created_at) "
            "SELECT 'merchant', 'Pelaku ' || g, '0812' || lpad(g::text, 8, '0'), true, 1, now() "
            "FROM generate_series(1, :n) g",
            n=args.stalls,
        )
        run(
            "INSERT INTO users (role, name, nip, active, session_version, created_at) "
            "VALUES ('asn', 'ASN Bench', '198609262015051001', true, 1, now())"
        )
        run(
            "INSERT INTO stalls (code, kelurahan_id, serial, name, owner_id, address, status, "
            "poster_version, created_at, updated_at) "
            "SELECT 'B' || lpad(u.id::text, 9, '0'), k.id, u.id, 'Lapak ' || u.id, u.id, '', "
            "'active', 1, now(), now() FROM users u "
            "JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS rn FROM kelurahan) k "
            "  ON k.rn = u.id % (SELECT count(*) FROM kelurahan) WHERE u.role = 'merchant'"
        )
        run(
            "INSERT INTO purchase_reports (reference, idempotency_key, asn_id, stall_id, amount, "
            "goods_category, description, payment_method, purchased_at, state, flagged, "
            "created_at, updated_at) "
            "SELECT 'W' || g, md5(g::text), a.id, s.min + g % :ns, (1 + g % 30) * 5000, "
            "'makanan', '', 'tunai', t.at, 'submitted', false, t.at, t.at "
            "FROM generate_series(1, :n) g "
            "CROSS JOIN (SELECT id FROM users WHERE role = 'asn') a "
            "CROSS JOIN (SELECT min(id) AS min FROM stalls) s "
            "CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'UTC') "
            "  - (g % 6) * interval '1 day' - interval '1 hour' AS at) t",
            n=args.waiting,
            ns=args.stalls,
        )
        db.session.commit()
        run("ANALYZE")
        db.session.commit()
    return time.perf_counter() - started


_worker_app = None


def _start_worker(api_url: str) -> None:
    """Pool initializer: a worker process's app, made once as a Celery worker's is."""
    global _worker_app
    _worker_app = _app(api_url)


def _ready(_n: int) -> bool:
    time.sleep(0.2)  # long enough that every process of the pool takes one
    return _worker_app is not None


def _deliver_batch(ids: list[int]) -> tuple[dict, int]:
    """In a worker process: the delivery task's code on one batch; counts, peak RSS (KiB)."""
    from promkm_qr.notifications.delivery import deliver

    with _worker_app.app_context():
        counts = deliver(ids)
    return counts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(app, api, args) -> dict:
    """Compose and store the digests, then deliver every WhatsApp row."""
    from sqlalchemy import select

    from promkm_qr.extensions import db
    from promkm_qr.models import OutboxMessage
    from promkm_qr.models.base import utcnow
    from promkm_qr.notifications import compose

    with app.app_context():
        now = utcnow()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        stored = compose.store(compose.merchant_digests(now), now)
        compose_s = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        batches = [
            args_[0]
            for (args_,) in db.session.execute(
                select(OutboxMessage.args).where(
                    OutboxMessage.task == "promkm_qr.notifications.deliver"
                )
            )
        ]
        db.session.remove()
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.workers, _start_worker, (api.url,)) as pool:
        assert all(pool.map(_ready, range(args.workers), chunksize=1))
        workers_start_s = time.perf_counter() - started
        started = time.perf_counter()
        results = pool.map(_deliver_batch, batches, chunksize=1)
        deliver_s = time.perf_counter() - started
    delivered: dict[str, int] = {}
    for counts, _rss in results:
        for status, n in counts.items():
            delivered[status] = delivered.get(status, 0) + n
    return {
        "digests": stored.get("sent", 0),
        "whatsapp_rows": stored.get("queued", 0),
        "delivery_batches": len(batches),
        "compose_store_s": round(compose_s, 2),
        "workers_start_s": round(workers_start_s, 2),
        "deliver_s": round(deliver_s, 2),
        "total_s": round(compose_s + deliver_s, 2),
        "delivered": delivered,
        "api_requests": len(api.requests),
        "api_malformed": len(api.malformed),
        "composer_peak_rss_mb": round(rss_after / 1024, 1),
        "composer_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "worker_peak_rss_mb": round(max(rss for _c, rss in results) / 1024, 1),
    }


def main() -> None:
    """Load, measure, print one JSON line, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalls", type=int, default=23_600)
    parser.add_argument("--waiting", type=int, default=60_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    from tests.conftest import create_pg_database
    from tests.notifications.loopback import CloudApi

    # The worker processes (spawned) read it from the environment, as Celery workers do.
    os.environ["DATABASE_URL"], drop = create_pg_database()
    api = CloudApi().start()
    figures = {"stalls": args.stalls, "waiting": args.waiting, "workers": args.workers}
    try:
        app = _app(api.url)
        figures["load_s"] = round(load(app, args), 2)
        figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
        figures.update(measure(app, api, args))
    finally:
        api.stop()
        if args.keep:
            print(f"kept: {os.environ['DATABASE_URL']}", file=sys.stderr)
        else:
            drop()
    figures["under_60_s"] = figures.get("total_s", 1e9) < 60
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
