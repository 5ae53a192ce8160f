"""API latency: a month's compliance for every ASN read page by page, as payroll would.

Loads the same province-scale history as bench/dashboard.py (its loader: INSERT ... SELECT
generate_series into a report table without secondary indexes or triggers, then the indexes
and the rollups rebuilt; into a database of its own), confirms --pending submitted reports
of last month without folding (so the pages read rollups plus pending deltas of the month
they read), makes an API client with `read:compliance`, and reads
/api/v1/compliance/asn for last month with limit=--page until next_cursor is null, through
the whole app (Flask test client), --rounds times. Reports the seed time, the total time of
a full read (best and median round), p50/p95 per page and the time of the TPP file's rows.
--explain prints EXPLAIN (ANALYZE, BUFFERS) of one page's compliance statement to stderr.
Usage:

    python bench/api.py --reports 10000000 --asn 6000 --rounds 3

The last line is one JSON object. The database is dropped at the end unless --keep.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dashboard as history  # bench/dashboard.py: its loader and helpers
from sqlalchemy import create_engine, event, text

history.DB_NAME = "promkm_bench_api"
os.environ.setdefault("PROMKM_INSTANCE", "/tmp/promkm-bench-api")


def last_month() -> str:
    """The previous calendar month as YYYY-MM (whole, so the monthly rollup serves it)."""
    return (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def pending_in_month(n: int, month: str) -> dict:
    """Fold what earlier runs left pending, then confirm n submitted reports of the month
    through the triggers without folding: every run reads the same backlog."""
    with history._app().app_context():
        from promkm_qr.dashboard import rollups

        rollups.fold()
    engine = create_engine(history._database_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(
            text(
                "UPDATE purchase_reports SET state = 'confirmed' WHERE id IN (SELECT id "
                "FROM purchase_reports WHERE state = 'submitted' AND purchased_at "
                ">= CAST(:first AS timestamp) - interval '7 hours' LIMIT :n)"
            ),
            {"n": n, "first": f"{month}-01"},
        )
        pending = conn.scalar(text("SELECT count(*) FROM rollup_deltas"))
    engine.dispose()
    return {"pending_delta_rows": pending}


def explain_page(app, client, headers: dict, month: str, page: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the compliance statement of the second page, to stderr."""
    from promkm_qr.extensions import db

    first = client.get(
        "/api/v1/compliance/asn", query_string={"month": month, "limit": page}, headers=headers
    ).get_json()
    seen = []
    with app.app_context():
        engine = db.engine
    grab = lambda _c, _cur, sql, params, *_rest: seen.append((sql, params))  # noqa: E731
    event.listen(engine, "before_cursor_execute", grab)
    query = {"month": month, "limit": page, "cursor": first["next_cursor"]}
    client.get("/api/v1/compliance/asn", query_string=query, headers=headers)
    event.remove(engine, "before_cursor_execute", grab)
    sql, params = next((s, p) for s, p in seen if "rollup_asn_months" in s)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join(line for (line,) in cursor.fetchall()), file=sys.stderr)
    finally:
        raw.rollback()
        raw.close()


def time_tpp_rows(app, month: str) -> dict:
    """The city-wide TPP file's rows for the month (its query; the month need not be closed)."""
    from promkm_qr.api.tpp import tpp_rows

    with app.app_context():
        started = time.perf_counter()
        _rows, ids = tpp_rows(month, None)
        return {"tpp_rows_s": round(time.perf_counter() - started, 3), "tpp_rows_asn": len(ids)}


def time_compliance(args) -> dict:
    """Full page-by-page reads of last month's compliance."""
    from promkm_qr.api.clients import create_client

    app = history._app()
    app.config["API_RATE_LIMIT"] = "1000000/minute"
    with app.app_context():
        _id, token = create_client("bench", ["read:compliance"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    month, totals, cpus, pages, rows = last_month(), [], [], [], 0
    if args.explain:
        explain_page(app, client, headers, month, args.page)
    for _round in range(args.rounds + 1):  # the first round warms caches and connections
        cursor, read, page_times = None, 0, []
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            query = {"month": month, "limit": args.page, **({"cursor": cursor} if cursor else {})}
            began = time.perf_counter()
            response = client.get("/api/v1/compliance/asn", query_string=query, headers=headers)
            page_times.append(time.perf_counter() - began)
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.get_json()
            read += len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        if _round:
            totals.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            pages += page_times
            rows = read
    p50, p95 = history._percentiles(pages)
    return {
        "month": month,
        "asn_read": rows,
        "page_size": args.page,
        "pages_per_read": len(pages) // args.rounds,
        "full_read_best_s": round(min(totals), 3),
        "full_read_median_s": round(statistics.median(totals), 3),
        # The app's own CPU (this process; the database's time is not in it): steadier
        # than wall time on a shared machine.
        "full_read_app_cpu_median_s": round(statistics.median(cpus), 3),
        "page_p50_ms": p50,
        "page_p95_ms": p95,
        **time_tpp_rows(app, month),
    }


def main() -> None:
    """Load, measure, report one JSON line, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--stalls", type=int, default=23_600)
    parser.add_argument("--asn", type=int, default=6_000)
    parser.add_argument("--opds", type=int, default=50)
    parser.add_argument("--pending", type=int, default=2_000, help="report changes left unfolded")
    parser.add_argument("--page", type=int, default=500, help="ASN per page")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-load", action="store_true", help="reuse the kept database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN one page to stderr")
    args = parser.parse_args()
    figures = {"reports": args.reports, "asn": args.asn}
    try:
        if args.skip_load:
            history.migrate()
        else:
            figures.update(history.load(args))
            figures["seed_s"] = round(
                figures["load_s"] + figures["index_s"] + figures["rollup_build_s"], 1
            )
        figures.update(pending_in_month(args.pending, last_month()))
        figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
        figures.update(time_compliance(args))
    finally:
        if not args.keep:
            history._admin(f'DROP DATABASE IF EXISTS "{history.DB_NAME}" WITH (FORCE)')
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
