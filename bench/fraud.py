"""How well the flagging rules catch injected fraud, and how fast a month runs on workers.

Builds a fresh PostgreSQL database with a month of honest reports at Madiun scale plus
fraud of each kind at a known rate, runs the rules through a real Celery worker (prefork,
one process per core) in batches, then prints per kind the share caught and the share of
honest reports flagged. Last line: one JSON object.

    .venv/bin/python bench/fraud.py --stalls 23600 --asn 6000 --reports 60000
"""

import argparse
import json
import os
import random
import secrets
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import create_pg_database  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.worker import Worker  # noqa: E402

KINDS = [
    "amount",
    "daily_count",
    "repeat",
    "photo",
    "photo_similar",
    "distance",
    "photo_time",
    "hours",
    "own_stall",
]
RULE_OF = {"photo_similar": "photo"}
AMOUNTS = [5, 8, 10, 12, 15, 20, 25, 35, 50, 75, 100, 150]


def _hex(rng, digits):
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _honest(rng, asn_ids, asn_opd, stalls, weights, month_start):
    """One ordinary purchase: daytime, usual amount, phone at the stall, fresh photo."""
    stall_id, lat, lon = rng.choices(stalls, weights=weights)[0]
    # 00:00-09:59 UTC is 07:00-16:59 WIB.
    at = month_start + timedelta(
        days=rng.randrange(28), hours=rng.randint(0, 9), minutes=rng.randrange(60)
    )
    asn_id = rng.choice(asn_ids)
    return {
        "asn_id": asn_id,
        "opd_id": asn_opd[asn_id],
        "stall_id": stall_id,
        "amount": rng.choice(AMOUNTS) * 1000,
        "purchased_at": at,
        "lat": lat + rng.uniform(-0.0003, 0.0003),
        "lon": lon + rng.uniform(-0.0003, 0.0003),
        "sha256": _hex(rng, 64),
        "original_sha256": _hex(rng, 64),
        "phash": _hex(rng, 16),
        "taken_at": at + timedelta(hours=7, minutes=rng.randint(-15, 5)),
        "kind": None,
    }


def _inject(rng, kind, base, honest, stalls, weights):
    """Fraud of one kind made from an honest-looking report; a list (daily_count is 5)."""
    row = dict(base, kind=kind)
    if kind == "amount":
        row["amount"] = rng.randint(10, 30) * 100_000
    elif kind == "repeat":
        src = rng.choice(honest)
        row.update({k: src[k] for k in ("asn_id", "opd_id", "stall_id", "lat", "lon")})
        row["purchased_at"] = src["purchased_at"] + timedelta(minutes=rng.randint(3, 25))
        row["taken_at"] = row["purchased_at"] + timedelta(hours=7)
    elif kind == "photo":
        src = rng.choice(honest)
        row["sha256"], row["original_sha256"] = src["sha256"], src["original_sha256"]
    elif kind == "photo_similar":
        src = rng.choice(honest)
        bits = int(src["phash"], 16)
        for bit in rng.sample(range(64), rng.randint(0, 3)):
            bits ^= 1 << bit
        row["phash"] = f"{bits:016x}"
    elif kind == "distance":
        row["lat"] += rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)
    elif kind == "photo_time":
        row["taken_at"] -= timedelta(days=rng.randint(2, 10))
    elif kind == "hours":
        day = row["purchased_at"].replace(hour=0, minute=0)
        row["purchased_at"] = day + timedelta(hours=16 + rng.randint(0, 3))  # 23:00-02:59 WIB
        row["taken_at"] = row["purchased_at"] + timedelta(hours=7)
    elif kind == "daily_count":
        rows = []
        for i in range(5):
            extra = _honest(
                rng,
                [row["asn_id"]],
                {row["asn_id"]: row["opd_id"]},
                stalls,
                weights,
                row["purchased_at"].replace(hour=0, minute=0),
            )
            extra["purchased_at"] = row["purchased_at"].replace(hour=0) + timedelta(hours=i * 2)
            extra["taken_at"] = extra["purchased_at"] + timedelta(hours=7)
            rows.append(dict(extra, kind=kind))
        return rows
    return [row]


def build(args) -> dict:
    """The month's reports in the database; returns {report_id: kind or None}."""
    from sqlalchemy import insert, select, update

    from promkm_qr.demo import build_demo
    from promkm_qr.extensions import db
    from promkm_qr.models import AsnProfile, Evidence, PurchaseReport, Stall

    rng = random.Random(args.seed)
    build_demo(stalls=args.stalls, asn=args.asn, months=0, seed=args.seed)
    stalls = db.session.execute(
        select(Stall.id, Stall.lat, Stall.lon).where(Stall.status == "active").order_by(Stall.id)
    ).all()
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(stalls))]
    asn_opd = dict(db.session.execute(select(AsnProfile.user_id, AsnProfile.opd_id)).all())
    asn_ids = sorted(asn_opd)
    month_start = datetime(2026, 2, 1)
    per_kind = round(args.reports * args.fraud_rate)
    honest = [
        _honest(rng, asn_ids, asn_opd, stalls, weights, month_start)
        for _ in range(args.reports - per_kind * len(KINDS))
    ]
    fraud = []
    for kind in KINDS:
        count = per_kind // 5 if kind == "daily_count" else per_kind
        for _ in range(count):
            base = _honest(rng, asn_ids, asn_opd, stalls, weights, month_start)
            fraud.extend(_inject(rng, kind, base, honest, stalls, weights))
    own = [r for r in fraud if r["kind"] == "own_stall"]
    # Each case gets its own stall (from the quiet end of the list) and the ASN's own NIK.
    for n, row in enumerate(own):
        nik = f"3577{row['asn_id']:012d}"
        stall_id, lat, lon = stalls[-(n + 1)]
        row.update(stall_id=stall_id, lat=lat, lon=lon)
        db.session.execute(
            update(AsnProfile).where(AsnProfile.user_id == row["asn_id"]).values(nik=nik)
        )
        db.session.execute(update(Stall).where(Stall.id == stall_id).values(owner_nik=nik))
    rows = honest + fraud
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        evidence_ids = db.session.scalars(
            insert(Evidence).returning(Evidence.id, sort_by_parameter_order=True),
            [
                {
                    "storage_key": "bench",
                    "thumb_key": "bench",
                    "sha256": r["sha256"],
                    "original_sha256": r["original_sha256"],
                    "phash": r["phash"],
                    "width": 800,
                    "height": 600,
                    "taken_at": r["taken_at"],
                    "created_at": r["purchased_at"],
                }
                for r in chunk
            ],
        ).all()
        report_ids = db.session.scalars(
            insert(PurchaseReport).returning(PurchaseReport.id, sort_by_parameter_order=True),
            [
                {
                    "reference": f"PR{secrets.token_hex(5).upper()}",
                    "idempotency_key": uuid.uuid4().hex,
                    "asn_id": r["asn_id"],
                    "opd_id": r["opd_id"],
                    "stall_id": r["stall_id"],
                    "amount": r["amount"],
                    "goods_category": "makanan",
                    "description": "Belanja",
                    "payment_method": "tunai",
                    "purchased_at": r["purchased_at"],
                    "evidence_id": e,
                    "lat": r["lat"],
                    "lon": r["lon"],
                    "state": "submitted",
                    "flagged": False,
                    "created_at": r["purchased_at"],
                    "updated_at": r["purchased_at"],
                }
                for r, e in zip(chunk, evidence_ids, strict=True)
            ],
        ).all()
        for r, rid in zip(chunk, report_ids, strict=True):
            r["id"] = rid
    db.session.commit()
    return {r["id"]: r["kind"] for r in rows}


def _wait_for_worker(celery, timeout: float = 120) -> None:
    """Resend a ping until a worker answers: messages sent before it binds its queue are lost."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            celery.send_task("promkm_qr.reports.check_rules_batch", args=[[]]).get(timeout=2)
            return
        except CeleryTimeout:
            continue
    raise RuntimeError("no worker answered")


def main() -> None:
    """Build, run the rules on a worker, score them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalls", type=int, default=23_600)
    parser.add_argument("--asn", type=int, default=6_000)
    parser.add_argument("--reports", type=int, default=60_000)
    parser.add_argument("--fraud-rate", type=float, default=0.01, help="share per kind")
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    database_url, drop = create_pg_database()
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": services.REDIS_URL,
            "CELERY_RESULT_BACKEND": services.REDIS_URL,
            "PROMKM_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "SECRET_KEY": "bench",
            "PROMKM_INSTANCE": f"/tmp/promkm-bench-{os.getpid()}",
        }
    )
    worker = None
    try:
        from flask_migrate import upgrade
        from sqlalchemy import select

        from promkm_qr import create_app, reference
        from promkm_qr.extensions import db
        from promkm_qr.models import ReportFlag

        app = create_app()
        with app.app_context():
            upgrade()
            reference.load_regions(app.config["REGIONS_CSV"])
            reference.seed_defaults()
            started = time.perf_counter()
            kinds = build(args)
            print(
                f"built {len(kinds)} reports in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            log = open(f"/tmp/promkm-bench-worker-{os.getpid()}.log", "w+b")  # noqa: SIM115
            worker = Worker(dict(os.environ), pool="prefork", concurrency=args.concurrency, log=log)
            celery = app.extensions["celery"]
            _wait_for_worker(celery)
            ids = sorted(kinds)
            started = time.perf_counter()
            results = [
                celery.send_task(
                    "promkm_qr.reports.check_rules_batch", args=[ids[i : i + args.batch]]
                )
                for i in range(0, len(ids), args.batch)
            ]
            for result in results:
                result.get(timeout=1800)
            wall = time.perf_counter() - started
            flags = {}
            for report_id, rule in db.session.execute(
                select(ReportFlag.report_id, ReportFlag.rule)
            ):
                flags.setdefault(report_id, set()).add(rule)
        figures = {}
        for kind in KINDS:
            mine = [rid for rid, k in kinds.items() if k == kind]
            caught = sum(1 for rid in mine if RULE_OF.get(kind, kind) in flags.get(rid, ()))
            figures[f"caught_{kind}_pct"] = round(100 * caught / max(1, len(mine)), 2)
            print(
                f"{kind:14} {len(mine):6} injected, {figures[f'caught_{kind}_pct']:6.2f} % caught"
            )
        honest = [rid for rid, k in kinds.items() if k is None]
        flagged = sum(1 for rid in honest if rid in flags)
        figures["honest_flagged_pct"] = round(100 * flagged / len(honest), 3)
        figures.update(
            reports=len(ids), rate_per_s=round(len(ids) / wall, 1), wall_s=round(wall, 1)
        )
        print(f"honest flagged {figures['honest_flagged_pct']} % of {len(honest)}")
        print(json.dumps(figures))
    finally:
        if worker:
            worker.stop()
        drop()


if __name__ == "__main__":
    main()
