"""Fingerprinted static URLs: `url_for('static', filename='app.css')` ends in `?v=<hash>`.

In production nginx serves /static/ itself with a cache lifetime of a year; the content hash
in the URL changes with the file, so a browser never keeps an old stylesheet or script after
an upgrade. The hash is cached per file and recomputed when the file's mtime changes.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask


@lru_cache(maxsize=256)
def _digest(path: str, _mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def fingerprint(static_folder: str, filename: str) -> str | None:
    """The short content hash of a static file, or None when there is no such file."""
    path = Path(static_folder) / filename
    try:
        return _digest(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


def register(app: Flask) -> None:
    """Add `v=<hash>` to every URL of the static endpoint."""

    @app.url_defaults
    def static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = fingerprint(app.static_folder, values["filename"])
            if version:
                values["v"] = version
