"""Load test of the real stack (gunicorn, PostgreSQL, Redis, Celery) with Locust, headless.

    .venv/bin/python bench/load.py [--users 50] [--duration 60] [--spawn-rate 10] [--nginx]

Builds a city on a fresh PostgreSQL database (promkm_qr.demo), starts gunicorn and a
worker on loopback, runs the users of bench/load_users.py (ASN scanning posters and
reporting with a ~300 KB photo, merchants confirming, staff on the dashboard and printing
a kelurahan's stickers) for a bounded time, waits for the background work, then checks that
every accepted submission is stored exactly once. Last line: one JSON object.

With --nginx the users go over HTTPS through nginx on the site file of deploy/nginx/ (a
self-signed certificate), and gunicorn listens on a unix socket as the systemd unit has it.
The users' own X-Forwarded-For stands for a load balancer's (PROXY_HOPS=2), so each still
signs in from an address of its own.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import stack  # noqa: E402
from bench.stack import VENV_BIN, migrated_app  # noqa: E402
from bench.submit import phone_photo  # noqa: E402


def build_city(env: dict, stalls: int, asn: int) -> dict:
    """Migrate, load regions and demo data; return the accounts the users sign in with."""
    from sqlalchemy import select

    from promkm_qr.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo
    from promkm_qr.extensions import db
    from promkm_qr.models import Stall, User
    from promkm_qr.stalls.links import link_token

    with migrated_app(env).app_context():
        build_demo(stalls=stalls, asn=asn, months=1)
        active = db.session.execute(
            select(Stall.code, Stall.poster_version, Stall.owner_id).where(Stall.status == "active")
        ).all()
        owners = {owner for _code, _version, owner in active}
        merchants = db.session.scalars(
            select(User.phone).where(User.role == "merchant", User.id.in_(owners))
        ).all()
        return {
            "password": DEMO_PASSWORD,
            "staff": DEMO_LOGINS["dinas"],
            "asn": list(db.session.scalars(select(User.nip).where(User.role == "asn"))),
            "merchants": list(merchants),
            "tokens": [link_token(code, version) for code, version, _ in active],
        }


def route_figures(stats_csv: Path) -> tuple[dict, dict]:
    """Per-route and aggregated figures from Locust's stats CSV."""
    routes, total = {}, {}
    with stats_csv.open() as handle:
        for row in csv.DictReader(handle):
            figures = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
            if row["Name"] == "Aggregated":
                total = figures
            else:
                routes[f"{row['Type']} {row['Name']}"] = figures
    return routes, total


def check_database(database_url: str, accepted: list[str]) -> dict:
    """Every accepted key stored once; count reports still waiting for their evidence."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        stored = dict(
            conn.execute(
                "SELECT idempotency_key, count(*) FROM purchase_reports "
                "WHERE idempotency_key = ANY(%s) GROUP BY idempotency_key",
                (accepted,),
            ).fetchall()
        )
        pending = conn.execute(
            "SELECT count(*) FROM photo_uploads WHERE state NOT IN ('done', 'failed')"
        ).fetchone()[0]
        failed = conn.execute(
            "SELECT count(*) FROM photo_uploads WHERE state = 'failed'"
        ).fetchone()[0]
    return {
        "accepted": len(accepted),
        "lost": sum(1 for key in accepted if key not in stored),
        "duplicated": sum(1 for n in stored.values() if n > 1),
        "evidence_pending": pending,
        "evidence_failed": failed,
    }  # fmt: skip


def start_nginx(env: dict, work: Path, port: int):
    """gunicorn on a unix socket and the worker, nginx in front on `port` over HTTPS.

    Returns (base URL, the certificate to trust, nginx, whose `stack` are the processes).
    """
    from tests.support.layout import ROOT as APP_DIR
    from tests.support.layout import Nginx, nginx_site, self_signed_certificate

    sock = work / "web.sock"
    processes = stack.start(env, port, bind=f"unix:{sock}")
    cert, key = self_signed_certificate(work)
    (work / "nginx").mkdir()
    site = nginx_site({"SERVER_NAME": "localhost", "HTTP_PORT": str(port + 1),
                       "HTTPS_PORT": str(port), "TLS_CERTIFICATE": str(cert),
                       "TLS_CERTIFICATE_KEY": str(key), "APP_DIR": str(APP_DIR),
                       "SOCKET": str(sock), "MAX_UPLOAD_BYTES": str(20 * 1024 * 1024)})  # fmt: skip
    nginx = Nginx(work / "nginx", site)
    nginx.stack = processes
    base = f"https://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", verify=str(cert), timeout=2).status_code == 200:
                return base, str(cert), nginx
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("nginx or gunicorn did not start")


def main() -> None:
    """Run the load test and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--stalls", type=int, default=600)
    parser.add_argument("--asn", type=int, default=400)
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--nginx", action="store_true", help="through nginx over HTTPS")
    stack.add_service_arguments(parser)
    args = parser.parse_args()

    env, work, database_url, drop = stack.environment("load", args.postgres, args.redis)
    if args.nginx:
        env.update(PROXY_HOPS="2", COOKIE_SECURE="1")
    processes, nginx = [], None
    try:
        accounts = build_city(env, args.stalls, args.asn)
        photo = work / "photo.jpg"
        photo.write_bytes(phone_photo())
        accounts["photo"] = str(photo)
        (work / "accounts.json").write_text(json.dumps(accounts))
        accepted_file = work / "accepted.txt"
        accepted_file.touch()
        host = f"http://127.0.0.1:{args.port}"
        locust_env = {
            **os.environ,
            **env,
            "PROMKM_LOAD_ACCOUNTS": str(work / "accounts.json"),
            "PROMKM_LOAD_ACCEPTED": str(accepted_file),
        }
        if args.nginx:
            host, locust_env["PROMKM_LOAD_CA"], nginx = start_nginx(env, work, args.port)
        else:
            processes = stack.start(env, args.port)
        started = time.perf_counter()
        subprocess.run(
            [VENV_BIN / "locust", "-f", str(ROOT / "bench" / "load_users.py"), "--headless",
             "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
             "--host", host, "--csv", str(work / "locust"),
             "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0"],
            cwd=ROOT, env=locust_env, check=True, stdout=sys.stderr)  # fmt: skip
        load_s = time.perf_counter() - started
        accepted = accepted_file.read_text().split()
        deadline = time.monotonic() + 300
        while check_database(database_url, accepted)["evidence_pending"] and (
            time.monotonic() < deadline
        ):
            time.sleep(1)
        routes, total = route_figures(work / "locust_stats.csv")
        result = {
            "users": args.users, "through": "nginx" if args.nginx else "gunicorn",
            "duration_s": args.duration, "load_wall_s": round(load_s, 1),
            "rate_per_s": total.get("rps"), "p50_ms": total.get("p50_ms"),
            "p95_ms": total.get("p95_ms"), "p99_ms": total.get("p99_ms"),
            "requests": total.get("requests"), "errors": total.get("failures"),
            **check_database(database_url, accepted), "routes": routes,
        }  # fmt: skip
    finally:
        if nginx:
            nginx.stop()
            processes = nginx.stack
        stack.stop(processes)
        drop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
