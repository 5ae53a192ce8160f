"""The ASN's installable web app: its manifest and its service worker.

Both are served from the site root: a worker's scope is at most the folder it is served
from, and it must cover the poster links (/q/...) as well as the ASN pages (/asn/...). The
worker's version is a hash of its own code and of every file it keeps, so a release that
changes any of them installs a new worker, which drops the old caches (docs in the README).
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import Response, current_app, url_for

from promkm_qr.public import bp

THEME = "#0b6e4f"
WORKER_SOURCE = Path(__file__).with_name("service-worker.js")
# Files the worker keeps from its installation on (fingerprinted, so kept until replaced).
APP_FILES = (
    "app.css",
    "asn-photo.js",
    "asn-scan.js",
    "asn-outbox.js",
    "asn-queue.js",
    "asn-report.js",
    "favicon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)
ICONS = (
    ("icons/icon-192.png", "192x192", "any"),
    ("icons/icon-512.png", "512x512", "any"),
    ("icons/maskable-512.png", "512x512", "maskable"),
)
# Not fingerprinted: a browser asks again at most this often (and on every new worker).
MANIFEST_AGE = 24 * 3600


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: installs the ASN pages as an app starting on the ASN home."""
    body = {
        "id": url_for("asn.home"),
        "name": f"ProUMKM QR · {current_app.config['CITY_NAME']}",
        "short_name": "ProUMKM",
        "description": "Lapor belanja ASN di UMKM lokal",
        "lang": "id",
        "start_url": url_for("asn.home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": "#f5f7f8",
        "icons": [
            {"src": url_for("static", filename=f), "sizes": s, "type": "image/png", "purpose": p}
            for f, s, p in ICONS
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.cache_control.max_age = MANIFEST_AGE
    response.cache_control.public = True
    return response


@lru_cache(maxsize=4)
def _worker_script(source: str, config: str) -> tuple[str, str]:
    version = hashlib.sha256((source + config).encode()).hexdigest()[:12]
    return version, f"self.PROMKM_SW = {config.replace('VERSION', version)};\n{source}"


@bp.route("/sw.js")
def service_worker():
    """The service worker, with the release's file list and version written at its head."""
    config = {
        "version": "VERSION",
        "files": [url_for("static", filename=f) for f in APP_FILES],
        "manifest": url_for("public.manifest"),
        "offlineForm": url_for("asn.offline_form"),
        "home": url_for("asn.home"),
        "tokenUrl": url_for("asn.send_token"),
        "shell": [url_for("asn.home"), url_for("asn.offline_form")],
    }
    _version, script = _worker_script(WORKER_SOURCE.read_text(), json.dumps(config))
    response = Response(script, mimetype="text/javascript")
    # Always asked again: a new release must reach the phone on its next visit.
    response.cache_control.no_cache = True
    response.cache_control.public = True
    return response
