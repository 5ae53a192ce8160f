"""Dashboard and export latency on a province-scale history in PostgreSQL.

Loads a fresh database with set-based SQL (INSERT ... SELECT generate_series) while the
report table has no secondary indexes, constraints or rollup triggers, restores them, builds
the dashboard rollups as `flask rollups rebuild` does, and leaves --pending report changes
unfolded (the fold running behind). Then times the real dashboard page (Flask test client, the
whole app) for the city and for one kelurahan, the fold of the pending changes, and a streamed
CSV export of about --export-rows reports in a separate process (so its peak RSS is the
export's own). Usage:

    python bench/dashboard.py --reports 10000000 --months 24

The last line is one JSON object. The database is dropped at the end unless --keep.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = "promkm_bench7"
STATES = ["submitted"] * 9 + ["confirmed"] * 6 + ["verified"] * 3 + ["disputed", "rejected"]
# Older reports have been decided: nothing disputed or flagged is left open from them.
SETTLED = ["confirmed"] * 4 + ["verified"] * 14 + ["rejected", "withdrawn"]
POSITIONS = ["pelaksana"] * 7 + ["eselon-iv", "eselon-iv", "eselon-iii"]
CHUNK = 1_000_000


def _database_url() -> str:
    """The bench database's URL."""
    return make_url(ADMIN_URL).set(database=DB_NAME).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    """Run one statement on the server's admin database (CREATE/DROP DATABASE)."""
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _app():
    """The real app on the bench database."""
    os.environ["DATABASE_URL"] = _database_url()
    os.environ.setdefault("PROMKM_INSTANCE", "/tmp/promkm-bench7")
    from promkm_qr import create_app

    return create_app({"TESTING": True})


def load(args) -> dict:
    """Create, migrate and fill the bench database; returns the load timings."""
    from flask_migrate import upgrade

    from promkm_qr import reference
    from promkm_qr.extensions import db

    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    app = _app()
    with app.app_context():
        upgrade()
        reference.load_regions(app.config["REGIONS_CSV"])
        reference.seed_defaults()
        run = lambda sql, **p: db.session.execute(text(sql), p)  # noqa: E731
        run(
            "INSERT INTO opd (code, name) SELECT 'OPD' || g, 'OPD Bench ' || g "
            "FROM generate_series(1, :n) g",
            n=args.opds,
        )
        run(
            "INSERT INTO stalls (code, kelurahan_id, serial, name, category_id, address, status, "
            "poster_version, created_at, updated_at) "
            "SELECT 'B' || lpad(g::text, 9, '0'), k.id, g, 'Lapak ' || g, c.id, '', "
            "CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'active' END, 1, now(), now() "
            "FROM generate_series(1, :n) g "
            "JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS rn FROM kelurahan) k "
            "  ON k.rn = g % (SELECT count(*) FROM kelurahan) "
            "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM categories) c "
            "  ON c.rn = g % (SELECT count(*) FROM categories)",
            n=args.stalls,
        )
        run(
            "INSERT INTO users (role, name, nip, active, session_version, created_at) "
            "SELECT 'asn', 'ASN ' || g, lpad(g::text, 18, '0'), true, 1, now() "
            "FROM generate_series(1, :n) g",
            n=args.asn,
        )
        run(
            "INSERT INTO asn_profiles (user_id, opd_id, position_class, on_roster) "
            "SELECT u.id, o0.min + u.id % :no, (CAST(:positions AS text[]))[1 + u.id % 10], true "
            "FROM users u, (SELECT min(id) AS min FROM opd) o0 WHERE u.role = 'asn'",
            no=args.opds,
            positions=POSITIONS,
        )
        db.session.commit()
        restore = _strip_reports_table(run)
        db.session.commit()
        run("SET synchronous_commit = off")
        started = time.perf_counter()
        for first in range(1, args.reports + 1, CHUNK):
            last = min(first + CHUNK - 1, args.reports)
            run(
                "INSERT INTO purchase_reports (reference, idempotency_key, asn_id, opd_id, "
                "stall_id, amount, goods_category, description, payment_method, purchased_at, "
                "state, flagged, created_at, updated_at) "
                "SELECT 'B' || g, md5(g::text), a.min + ((g::bigint * 7919) % :na)::int, "
                "  o.min + ((a.min + ((g::bigint * 7919) % :na)::int) % :no), "
                "  s.min + floor(:ns * power(random(), 1.5))::int, "
                "  (1 + floor(random() * 30)::int) * 5000, 'makanan', '', 'tunai', t.at, "
                "  CASE WHEN t.recent THEN (CAST(:states AS text[]))[1 + floor(random() * 20)::int]"
                "  ELSE (CAST(:settled AS text[]))[1 + floor(random() * 20)::int] END, "
                "  t.recent AND random() < 0.05, "
                "  t.at, t.at "
                "FROM generate_series(:first, :last) g "
                "CROSS JOIN (SELECT min(id) AS min FROM users WHERE role = 'asn') a "
                "CROSS JOIN (SELECT min(id) AS min FROM opd) o "
                "CROSS JOIN (SELECT min(id) AS min FROM stalls) s "
                "CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'UTC') "
                "  - random() * (:days * interval '1 day') + g * interval '0 second' AS at) t0 "
                "CROSS JOIN LATERAL (SELECT t0.at, "
                "  t0.at > (now() AT TIME ZONE 'UTC') - interval '45 days' AS recent) t",
                first=first,
                last=last,
                na=args.asn,
                no=args.opds,
                ns=args.stalls,
                states=STATES,
                settled=SETTLED,
                days=args.months * 30.4,
            )
            db.session.commit()
            print(f"loaded {last:,} reports", file=sys.stderr, flush=True)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        run("SET maintenance_work_mem = '1GB'")
        for statement in restore:
            run(statement)
            db.session.commit()
        index_s = time.perf_counter() - started
        run(
            "INSERT INTO report_flags (report_id, rule, detail, created_at) "
            "SELECT id, 'duplicate_photo', 'bench', now() FROM purchase_reports "
            "WHERE flagged AND state IN ('submitted', 'confirmed', 'disputed')"
        )
        run(
            "INSERT INTO users (role, name, username, staff_role, active, session_version, "
            "created_at, scope_kelurahan_id) VALUES "
            "('dinas', 'Bench kota', 'kota', 'admin', true, 1, now(), NULL), "
            "('dinas', 'Bench kel', 'kel', 'viewer', true, 1, now(), "
            " (SELECT min(id) FROM kelurahan))"
        )
        run(
            "INSERT INTO users (role, name, username, staff_role, active, session_version, "
            "created_at, scope_kecamatan_id) VALUES ('dinas', 'Bench kec', 'kec', 'viewer', "
            "true, 1, now(), (SELECT min(id) FROM kecamatan))"
        )
        db.session.commit()
    engine = create_engine(_database_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
        # Room for the rebuild's hash aggregates; reset before the dashboard is timed.
        conn.execute(text(f"ALTER DATABASE \"{DB_NAME}\" SET work_mem = '256MB'"))
    started = time.perf_counter()
    with _app().app_context():
        from promkm_qr.dashboard import rollups

        rollups.rebuild()
    rollup_s = time.perf_counter() - started
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{DB_NAME}" RESET work_mem'))
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {
        "load_s": round(load_s, 1),
        "load_rate_per_s": round(args.reports / load_s),
        "index_s": round(index_s, 1),
        "rollup_build_s": round(rollup_s, 1),
    }


def migrate() -> None:
    """Bring a kept database (--skip-load) up to the current migrations."""
    from flask_migrate import upgrade

    with _app().app_context():
        upgrade()


def _strip_reports_table(run) -> list[str]:
    """Drop the report table's secondary indexes, constraints and triggers for the bulk load;
    returns the statements that restore them (foreign keys validated, indexes rebuilt)."""
    constraints = run(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'purchase_reports'::regclass AND contype IN ('u', 'f')"
    ).all()
    indexes = run(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'purchase_reports' "
        "AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
        "  WHERE conrelid = 'purchase_reports'::regclass)"
    ).all()
    for name, _ in constraints:
        run(f'ALTER TABLE purchase_reports DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        run(f'DROP INDEX "{name}"')
    run("ALTER TABLE purchase_reports DISABLE TRIGGER USER")
    return [
        *(f'ALTER TABLE purchase_reports ADD CONSTRAINT "{n}" {d}' for n, d in constraints),
        *(d for _, d in indexes),
        "ALTER TABLE purchase_reports ENABLE TRIGGER USER",
    ]


def pending_changes(n: int) -> dict:
    """Confirm n submitted reports of the last days through the triggers, without folding:
    the dashboard then reads rollups plus pending deltas, as when the fold runs behind."""
    engine = create_engine(_database_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(
            text(
                "UPDATE purchase_reports SET state = 'confirmed' WHERE id IN (SELECT id "
                "FROM purchase_reports WHERE state = 'submitted' "
                "AND purchased_at > (now() AT TIME ZONE 'UTC') - interval '3 days' LIMIT :n)"
            ),
            {"n": n},
        )
        pending = conn.scalar(text("SELECT count(*) FROM rollup_deltas"))
    engine.dispose()
    return {"pending_delta_rows": pending}


def time_fold() -> dict:
    """Fold the pending deltas, as the beat task does every minute."""
    with _app().app_context():
        from promkm_qr.dashboard import rollups

        started = time.perf_counter()
        folded = rollups.fold()
    return {"fold_rows": folded, "fold_ms": round((time.perf_counter() - started) * 1000, 1)}


def _signed_in(app, username: str):
    """A test client whose session belongs to a bench staff account."""
    from sqlalchemy import select

    from promkm_qr.extensions import db
    from promkm_qr.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        token = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def _percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(statistics.median(ordered) * 1000, 1), round(p95 * 1000, 1)


def time_dashboard(args) -> dict:
    """p50/p95 of the dashboard page: this month for city-wide, kecamatan and kelurahan staff,
    and the last 7 days city-wide (not whole months: stall and ASN panels read the reports)."""
    app = _app()
    today = date.today()
    week = {"mulai": (today - timedelta(days=6)).isoformat(), "sampai": today.isoformat()}
    views = (("city", "kota", {}), ("kecamatan", "kec", {}), ("kelurahan", "kel", {}))
    figures = {}
    for label, username, query in (*views, ("city_7days", "kota", week)):
        client = _signed_in(app, username)
        samples = []
        for n in range(args.requests + 2):
            started = time.perf_counter()
            response = client.get("/dinas/dasbor", query_string=query)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            if n >= 2:  # the first two warm caches and connections
                samples.append(elapsed)
        figures[f"{label}_p50_ms"], figures[f"{label}_p95_ms"] = _percentiles(samples)
    return figures


def time_export(rows: int) -> dict:
    """Stream the reports CSV for the most recent period holding about `rows` reports."""
    app = _app()
    with app.app_context():
        from promkm_qr.extensions import db

        oldest = db.session.scalar(
            text(
                "SELECT purchased_at FROM purchase_reports "
                "ORDER BY purchased_at DESC OFFSET :n LIMIT 1"
            ),
            {"n": rows},
        )
    start = (oldest + timedelta(hours=7)).date() if oldest else date(2000, 1, 1)
    client = _signed_in(app, "kota")
    started = time.perf_counter()
    response = client.get(
        "/dinas/ekspor/laporan.csv",
        query_string={"mulai": start.isoformat(), "sampai": date.today().isoformat()},
    )
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "export_rows": lines - 1,
        "export_wall_s": round(wall, 1),
        "export_mb": round(size / 1e6, 1),
        "export_peak_rss_mb": round(peak_kb / 1024, 1),
    }


def main() -> None:
    """Load, measure, report one JSON line, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--stalls", type=int, default=23_600)
    parser.add_argument("--asn", type=int, default=6_000)
    parser.add_argument("--opds", type=int, default=50)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--pending", type=int, default=2_000, help="report changes left unfolded")
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--skip-load", action="store_true", help="reuse the kept database (migrated to head)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--export-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(time_export(args.export_only)))
        return
    figures = {"reports": args.reports, "months": args.months}
    try:
        if args.skip_load:
            migrate()
        else:
            figures.update(load(args))
        figures.update(pending_changes(args.pending))
        figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
        figures.update(time_dashboard(args))
        figures.update(time_fold())
        child = subprocess.run(
            [sys.executable, __file__, "--export-only", str(args.export_rows)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures.update(json.loads(child.stdout.strip().splitlines()[-1]))
    finally:
        if not args.keep:
            _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
