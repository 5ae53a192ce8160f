"""A first BKPSDM roster: how long its import takes, each new ASN getting an activation code.

    .venv/bin/python bench/roster.py [--asn 6000]

Imports --asn new ASN into a fresh SQLite database in a temporary folder, as the roster page
does within one request (gunicorn ends a request after 30 s). Prints one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--asn", type=int, default=6000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="promkm-roster-")
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{folder}/roster.sqlite",
            "PROMKM_INSTANCE": folder,
            "PROMKM_STORAGE": f"{folder}/storage",
            "SECRET_KEY": "bench",
        }
    )
    from flask_migrate import upgrade

    from promkm_qr import create_app, reference
    from promkm_qr.accounts import roster
    from promkm_qr.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        reference.seed_defaults()
        lines = ["NIP;Nama;OPD;Kelas Jabatan"] + [
            f"19860926{2010 + i % 10}0{1 + i % 9}{1 + i // 9000}{i % 1000:03d};ASN {i};"
            f"Dinas {i % 40};Pelaksana"
            for i in range(args.asn)
        ]
        data = "\n".join(lines).encode()
        started, cpu = time.perf_counter(), time.process_time()
        result = roster.import_roster("roster.csv", data)
        db.session.commit()
        figures = {
            "asn": args.asn,
            "created": result.created,
            "bad_rows": len(result.errors),
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
