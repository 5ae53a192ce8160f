"""Lighthouse (its default mobile emulation and throttling) on the sign-in page, the report
form and Riwayat of a running app with the demo data (`make run`).

    .venv/bin/python scripts/lighthouse.py [--base http://127.0.0.1:5000] [--runs 3]

Run from the repository with the app's environment (the stall's poster link is read from its
database). Signs in as the demo ASN through the real form, hands Lighthouse the session
cookie (--extra-headers) and prints one JSON line: per page the median of each score
(0-100) over the runs, and the audits that cost points in any run.
"""

import argparse
import gzip
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CATEGORIES = ("performance", "accessibility", "best-practices")


def signed_in_cookie(base: str, role: str, identifier: str, password: str) -> str:
    """The Cookie header of a session signed in through the sign-in form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/auth/masuk").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "role": role, "identifier": identifier, "password": password}
    opener.open(f"{base}/auth/masuk", urllib.parse.urlencode(form).encode())
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def report_form_path() -> str:
    """The report form of the demo merchant's first stall, as its poster links it."""
    from sqlalchemy import select

    from promkm_qr import create_app
    from promkm_qr.demo import DEMO_LOGINS
    from promkm_qr.models import Stall, User
    from promkm_qr.stalls.links import link_token

    app = create_app()
    with app.app_context():
        from promkm_qr.extensions import db

        owner = select(User.id).where(User.phone == DEMO_LOGINS["merchant"]).scalar_subquery()
        stall = db.session.scalars(
            select(Stall).where(Stall.owner_id == owner).order_by(Stall.id)
        ).first()
        return f"/asn/lapor/{link_token(stall.code, stall.poster_version)}"


def lighthouse(url: str, headers: dict, port: int | None = None) -> dict:
    """One Lighthouse run: scores (0-100) and the audits below full marks that count.

    With `port`, Lighthouse drives the running Chromium of `warmed_browser` and keeps its
    storage: the signed-in session and the installed service worker."""
    browser = (
        [f"--port={port}", "--disable-storage-reset"]
        if port
        else ["--chrome-flags=--headless --no-sandbox"]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json") as extra:
        json.dump(headers, extra)
        extra.flush()
        run = subprocess.run(
            [
                "npx",
                "--no-install",
                "lighthouse",
                url,
                "--quiet",
                *browser,
                f"--only-categories={','.join(CATEGORIES)}",
                "--output=json",
                "--output-path=stdout",
                f"--extra-headers={extra.name}",
            ],
            cwd=ROOT,
            env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")},
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(run.stdout)
    scores, lost = {}, set()
    for name in CATEGORIES:
        category = result["categories"][name]
        scores[name] = round(100 * category["score"])
        for ref in category["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                lost.add(ref["id"])
    return {"scores": scores, "lost": lost}


def warmed_browser(base: str, port: int, identifier: str, password: str):
    """Debian's Chromium with a profile of its own, signed in as the ASN, with the app's
    service worker installed and the app shell kept; returns the process to stop."""
    from playwright.sync_api import sync_playwright

    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    profile = tempfile.mkdtemp(prefix="lighthouse-profile-")
    process = subprocess.Popen(
        [
            chrome,
            "--headless",
            "--no-sandbox",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with sync_playwright() as pw:
        for _ in range(50):
            try:
                browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
                break
            except Exception:  # not listening yet
                time.sleep(0.2)
        page = browser.contexts[0].new_page()
        page.goto(f"{base}/auth/masuk?next=/asn/")
        page.check("input[name=role][value=asn]")
        page.fill("#identifier", identifier)
        page.fill("#password", password)
        page.click("form button.primary")
        page.wait_for_url("**/asn/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function(
            "async () => !!(await (await caches.open('promkm-pages')).match('/asn/lapor-luring'))"
        )
        page.close()
    return process


def shell_bytes(base: str, cookie: str) -> dict:
    """The app shell's bytes, gzip-compressed as nginx sends them: the ASN home and the kept
    form (HTML) and the files the service worker keeps."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", cookie)]
    config = opener.open(f"{base}/sw.js").read().decode().split(" = ", 1)[1].split(";\n", 1)[0]
    paths = ["/asn/", "/asn/lapor-luring", *json.loads(config)["files"]]
    sizes = {path: len(gzip.compress(opener.open(base + path).read(), 6)) for path in paths}
    return {"total": sum(sizes.values()), **sizes}


def main() -> None:
    from promkm_qr.demo import DEMO_LOGINS, DEMO_PASSWORD

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--with-worker",
        action="store_true",
        help="the ASN home, report form and Riwayat with the service worker installed",
    )
    args = parser.parse_args()
    cookie = signed_in_cookie(args.base, "asn", DEMO_LOGINS["asn"], DEMO_PASSWORD)
    pages = {
        "sign-in": ("/auth/masuk", {}),
        "report form": (report_form_path(), {"Cookie": cookie}),
        "riwayat": ("/asn/riwayat", {"Cookie": cookie}),
    }
    port, process = None, None
    if args.with_worker:
        pages = {
            "asn home": ("/asn/", {}),
            "report form": (pages["report form"][0], {}),
            "riwayat": ("/asn/riwayat", {}),
        }
        port = 9333
        process = warmed_browser(args.base, port, DEMO_LOGINS["asn"], DEMO_PASSWORD)
    figures = {}
    try:
        for name, (path, headers) in pages.items():
            runs = [lighthouse(args.base + path, headers, port) for _ in range(args.runs)]
            figures[name] = {
                **{c: statistics.median(r["scores"][c] for r in runs) for c in CATEGORIES},
                "lost": sorted(set().union(*(r["lost"] for r in runs))),
            }
    finally:
        if process:
            process.terminate()
    if args.with_worker:
        figures["app shell gzip bytes"] = shell_bytes(args.base, cookie)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
