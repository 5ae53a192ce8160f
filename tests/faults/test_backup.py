"""Backup and restore: every report, photo and document comes back with the same checksums."""

import hashlib
import os
import shutil

from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from promkm_qr.backup import create_backup, restore_backup
from promkm_qr.extensions import db
from promkm_qr.models import Document, Evidence, PurchaseReport
from promkm_qr.storage import get_storage
from tests.conftest import BACKEND, create_pg_database
from tests.factories import make_asn, make_stall


def _seed_reports(count: int = 3) -> None:
    """Reports with stored photos and one stored document."""
    storage = get_storage()
    asn, stall = make_asn(), make_stall()
    for n in range(count):
        photo = f"photo {n}".encode() * 100
        key = f"photos/test/{n}.jpg"
        digest = storage.put(key, photo)
        evidence = Evidence(
            storage_key=key,
            thumb_key=key,
            sha256=digest,
            original_sha256=digest,
            phash="0" * 16,
            width=1,
            height=1,
        )
        db.session.add(evidence)
        db.session.flush()
        db.session.add(
            PurchaseReport(
                reference=f"PRTEST{n}",
                idempotency_key=f"key-{n}",
                asn_id=asn.id,
                stall_id=stall.id,
                amount=10_000 * (n + 1),
                goods_category="makanan",
                purchased_at=evidence.created_at,
                evidence_id=evidence.id,
            )
        )
    pdf = b"%PDF-1.7 test document"
    db.session.add(
        Document(
            public_id="DOCTEST",
            kind="asn_receipt",
            subject=f"asn:{asn.id}",
            period="2026-10",
            state="done",
            storage_key="docs/test.pdf",
            checksum=storage.put("docs/test.pdf", pdf),
        )
    )
    db.session.commit()


def _snapshot() -> dict:
    """Counts, sums and file checksums that a faithful restore must reproduce."""
    storage = get_storage()
    evidence = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
    documents = db.session.scalars(select(Document).order_by(Document.id)).all()
    return {
        "reports": db.session.scalar(select(func.count(PurchaseReport.id))),
        "rupiah": db.session.scalar(select(func.sum(PurchaseReport.amount))),
        "photos": [
            (e.sha256, hashlib.sha256(storage.get(e.storage_key)).hexdigest()) for e in evidence
        ],
        "documents": [
            (d.checksum, hashlib.sha256(storage.get(d.storage_key)).hexdigest()) for d in documents
        ],
    }


def test_backup_restores_into_empty_database_and_directory(app, tmp_path, make_other_app):
    _seed_reports()
    before = _snapshot()
    assert all(a == b for a, b in before["photos"] + before["documents"])
    create_backup(tmp_path / "backup")

    drop = None
    if BACKEND == "postgres":
        target, drop = create_pg_database()
    else:
        target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    try:
        config = {"SQLALCHEMY_DATABASE_URI": target, "STORAGE_DIR": str(tmp_path / "restored")}
        with make_other_app(config) as restored, restored.app_context():
            restore_backup(tmp_path / "backup")
            upgrade()  # a restored database is already at the newest migration: no-op
            after = _snapshot()
            db.session.remove()
            db.engines[None].dispose()
    finally:
        if drop:
            drop()
    assert after == before
    assert after["reports"] == 3 and after["rupiah"] == 60_000


def test_restore_refuses_a_tampered_backup(app, tmp_path, make_other_app):
    _seed_reports(1)
    create_backup(tmp_path / "backup")
    archive = tmp_path / "backup" / "storage.tar"
    archive.write_bytes(archive.read_bytes() + b"x")
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.sqlite'}",
        "STORAGE_DIR": str(tmp_path / "r"),
    }
    with make_other_app(config) as restored, restored.app_context():
        try:
            restore_backup(tmp_path / "backup")
        except ValueError as exc:
            assert "checksum" in str(exc)
        else:
            raise AssertionError("a tampered backup was restored")


def _restore_elsewhere(tmp_path, make_other_app, config: dict) -> dict:
    """Restore tmp_path/backup into a new database and directory with extra config."""
    drop = None
    if BACKEND == "postgres":
        target, drop = create_pg_database()
    else:
        target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    config = {
        "SQLALCHEMY_DATABASE_URI": target,
        "STORAGE_DIR": str(tmp_path / "restored"),
        **config,
    }
    try:
        with make_other_app(config) as restored, restored.app_context():
            manifest = restore_backup(tmp_path / "backup")
            db.session.remove()
            db.engines[None].dispose()
    finally:
        if drop:
            drop()
    return manifest


def test_restore_with_other_qr_keys_says_posters_will_not_verify(app, tmp_path, make_other_app):
    _seed_reports(1)
    manifest = create_backup(tmp_path / "backup")
    assert len(manifest["qr_key_fingerprints"]) == 2
    written = (tmp_path / "backup" / "manifest.json").read_text()
    assert "test-key-1" not in written and "test-key-2" not in written  # never the keys

    restored = _restore_elsewhere(tmp_path, make_other_app, {"QR_SIGNING_KEYS": ["new-key"]})
    warning = restored["key_warning"]
    assert "printed posters signed with them will not verify" in warning
    assert "2 of 2 missing" in warning and "Fix: set QR_SIGNING_KEYS" in warning


def test_restore_with_the_same_qr_keys_does_not_warn(app, tmp_path, make_other_app):
    _seed_reports(1)
    create_backup(tmp_path / "backup")
    # A key added for rotation still verifies every old poster.
    keys = ["rotated-in", *app.config["QR_SIGNING_KEYS"]]
    assert (
        _restore_elsewhere(tmp_path, make_other_app, {"QR_SIGNING_KEYS": keys})["key_warning"]
        is None
    )


def test_the_database_password_is_not_on_pg_dump_command_line(
    postgres_url, tmp_path, make_other_app, monkeypatch
):
    real = shutil.which("pg_dump")
    assert real, "pg_dump is not installed"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spy = bin_dir / "pg_dump"
    # Records what the process list would show, and the password libpq was given.
    spy.write_text(
        f'#!/bin/sh\necho "$@" > {tmp_path}/argv\necho "$PGPASSWORD" > {tmp_path}/pgpassword\n'
        f'exec {real} "$@"\n'
    )
    spy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    url, drop = create_pg_database()
    with_password = make_url(url).set(password="s3cret-pw").render_as_string(hide_password=False)
    try:
        config = {"SQLALCHEMY_DATABASE_URI": with_password, "STORAGE_DIR": str(tmp_path / "s")}
        with make_other_app(config) as other, other.app_context():
            create_backup(tmp_path / "backup")
            db.engines[None].dispose()
    finally:
        drop()
    assert "s3cret-pw" not in (tmp_path / "argv").read_text()
    assert (tmp_path / "pgpassword").read_text().strip() == "s3cret-pw"
