"""Consistent backups of the database and the stored files, and their restore.

The database is dumped first (pg_dump takes one consistent snapshot; SQLite's online
backup API copies a consistent state), then the storage directory is archived. Files are
written before the rows that name them are committed, so every row in the dump finds its
file in the archive; an archive may hold a few newer files no row names yet, which is harmless.
"""

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import URL, make_url

from promkm_qr.deployment import qr_key_fingerprints
from promkm_qr.models.base import utcnow

log = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url) -> tuple[str, dict]:
    """The URL for pg_dump/pg_restore, and their environment.

    The password goes in PGPASSWORD, never on the command line, where every user of the
    machine sees it in the process list. Without one in the URL, libpq reads ~/.pgpass.
    """
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    command_url = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    return command_url.render_as_string(hide_password=False), env


def key_mismatch(manifest: dict) -> str | None:
    """The warning for a machine whose QR keys cannot verify the backup's posters."""
    theirs = manifest.get("qr_key_fingerprints")
    if theirs is None:
        return None  # an older backup that did not record them
    missing = [key for key in theirs if key not in qr_key_fingerprints()]
    if not missing:
        return None
    return (
        f"the QR signing keys here do not match the backup ({len(missing)} of {len(theirs)} "
        f"missing: {', '.join(missing)}): printed posters signed with them will not verify. "
        "Fix: set QR_SIGNING_KEYS (and SECRET_KEY) to the values of the machine the backup "
        "came from, then restart web and workers; `flask --app wsgi check-deploy` compares "
        "fingerprints"
    )


def create_backup(dest: str | Path) -> dict:
    """Write db dump, storage archive and a manifest with checksums into dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=False)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        db_file = dest / "database.dump"
        command_url, env = _libpq(url)
        subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "-f", str(db_file), command_url],
            check=True,
            capture_output=True,
            env=env,
        )
    else:
        db_file = dest / "database.sqlite"
        with sqlite3.connect(url.database) as source, sqlite3.connect(db_file) as target:
            source.backup(target)
    storage = Path(current_app.config["STORAGE_DIR"])
    archive = dest / "storage.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(storage, arcname=".")
    manifest = {
        "created_at": utcnow().isoformat() + "Z",
        "database": {"file": db_file.name, "sha256": _sha256(db_file)},
        "storage": {"file": archive.name, "sha256": _sha256(archive)},
        # Printed posters verify only with these keys, which the backup does not hold.
        "qr_key_fingerprints": qr_key_fingerprints(),
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def restore_backup(src: str | Path) -> dict:
    """Restore a backup into the configured (empty) database and (empty) storage directory."""
    src = Path(src)
    manifest = json.loads((src / "manifest.json").read_text())
    for part in ("database", "storage"):
        if _sha256(src / manifest[part]["file"]) != manifest[part]["sha256"]:
            raise ValueError(f"backup {part} file does not match its checksum")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db_file = src / manifest["database"]["file"]
    if url.get_backend_name() == "postgresql":
        command_url, env = _libpq(url)
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", command_url, str(db_file)],
            check=True,
            capture_output=True,
            env=env,
        )
    else:
        if Path(url.database).exists() and Path(url.database).stat().st_size:
            raise FileExistsError(f"{url.database} exists: restore needs an empty database")
        shutil.copyfile(db_file, url.database)
    storage = Path(current_app.config["STORAGE_DIR"])
    storage.mkdir(parents=True, exist_ok=True)
    if any(storage.iterdir()):
        raise FileExistsError(f"{storage} is not empty: restore needs an empty directory")
    with tarfile.open(src / manifest["storage"]["file"]) as tar:
        tar.extractall(storage, filter="data")
    warning = key_mismatch(manifest)
    if warning:
        log.warning(warning)
    return {**manifest, "key_warning": warning}
