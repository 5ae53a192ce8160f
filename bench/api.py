"""API latency: a month's compliance for every ASN read page by page, as payroll would.

Loads the same province-scale history as bench/dashboard.py (its loader, into a database
of its own), makes an API client with `read:compliance`, and reads
/api/v1/compliance/asn for last month with limit=--page until next_cursor is null, through
the whole app (Flask test client), --rounds times. Reports the total time of a full read
(best and median round) and p50/p95 per page. Usage:

    python bench/api.py --reports 10000000 --asn 6000

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

history.DB_NAME = "promkm_bench_api"
os.environ.setdefault("PROMKM_INSTANCE", "/tmp/promkm-bench-api")


def last_month() -> str:
    """The previous calendar month as YYYY-MM (whole, so the monthly rollup serves it)."""
    return (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def time_compliance(args) -> dict:
    """Full page-by-page reads of last month's compliance."""
    from promkm_qr.api.clients import create_client

    app = history._app()
    app.config["API_RATE_LIMIT"] = "1000000/minute"
    with app.app_context():
        _id, token = create_client("bench", ["read:compliance"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    month, totals, pages, rows = last_month(), [], [], 0
    for _round in range(args.rounds + 1):  # the first round warms caches and connections
        cursor, started, read, page_times = None, time.perf_counter(), 0, []
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
        "page_p50_ms": p50,
        "page_p95_ms": p95,
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
    args = parser.parse_args()
    figures = {"reports": args.reports, "asn": args.asn}
    try:
        if args.skip_load:
            history.migrate()
        else:
            figures.update(history.load(args))
        figures.update(history.pending_changes(args.pending))
        figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
        figures.update(time_compliance(args))
    finally:
        if not args.keep:
            history._admin(f'DROP DATABASE IF EXISTS "{history.DB_NAME}" WITH (FORCE)')
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
