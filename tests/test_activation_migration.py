"""Migration 0011 on a database with codes from before: plain-text code files go, codes expire."""

import importlib.util
import json
from datetime import datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from promkm_qr.auth.services import hash_password
from promkm_qr.extensions import db
from promkm_qr.models.base import utcnow
from promkm_qr.storage import get_storage
from tests.conftest import BACKEND, create_pg_database, csrf_token
from tests.faults.conftest import other_app

NIP = "198609262015051001"


def _revision_before() -> str:
    """The revision the activation-codes migration follows, whatever its number."""
    versions = Path(__file__).parents[1] / "migrations" / "versions"
    (path,) = versions.glob("*_activation_codes.py")
    spec = importlib.util.spec_from_file_location("activation_codes_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.down_revision


def test_upgrade_removes_code_files_and_gives_old_codes_an_end(tmp_path):
    if BACKEND == "postgres":
        url, drop = create_pg_database()
    else:
        url, drop = f"sqlite:///{tmp_path / 'old.sqlite'}", None
    config = {"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(tmp_path / "storage")}
    try:
        with other_app(config) as app:
            with app.app_context():
                upgrade(revision=_revision_before())
                get_storage().put("roster/old.csv", b"NIP,Nama,OPD,Kode aktivasi\n1,A,B,C0DE1234\n")
                db.session.execute(
                    text(
                        "INSERT INTO users (role, name, nip, activation_code_hash, active,"
                        " session_version, created_at) VALUES ('asn', 'Lama', :nip,"
                        " :hash, :yes, 1, :now)"
                    ),
                    {"nip": NIP, "hash": hash_password("C0DE1234"), "yes": True, "now": utcnow()},
                )
                db.session.execute(
                    text(
                        "INSERT INTO jobs (id, kind, params, state, done, total, failed,"
                        " result_key, created_at) VALUES ('old-job', 'roster_import',"
                        " '{\"created\": 1}', 'done', 1, 1, 0, 'roster/old.csv', :now)"
                    ),
                    {"now": utcnow()},
                )
                db.session.commit()

                upgrade()

                assert not get_storage().exists("roster/old.csv")
                key, params = db.session.execute(
                    text("SELECT result_key, params FROM jobs WHERE id = 'old-job'")
                ).one()
                params = params if isinstance(params, dict) else json.loads(params)  # SQLite: text
                assert key is None and params["created"] == 1 and params["codes_expired_at"]
                expires = db.session.scalar(text("SELECT activation_expires_at FROM users"))
                if isinstance(expires, str):
                    expires = datetime.fromisoformat(expires)
                assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)
                db.session.remove()
            # A code handed out before the upgrade still works, once.
            client = app.test_client()
            data = {"identifier": NIP, "code": "c0de-1234", "password": "baru-12345"}
            data |= {
                "confirm": data["password"],
                "csrf_token": csrf_token(client, "/auth/aktivasi"),
            }
            assert client.post("/auth/aktivasi", data=data).headers["Location"] == "/asn/"
            again = app.test_client()
            data["csrf_token"] = csrf_token(again, "/auth/aktivasi")
            assert again.post("/auth/aktivasi", data=data).status_code == 401
    finally:
        if drop:
            drop()
