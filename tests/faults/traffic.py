"""Real report submissions over HTTP against a served app, from several ASN at once.

Each submitter signs in through the real form, opens the report form once (its CSRF token
stays valid for the session) and then posts reports with a photo, a fresh form key each
time, until told to stop; every answer is kept for the test to check against the database.
"""

import re
import threading
import time
import uuid
from dataclasses import dataclass

import requests
from werkzeug.serving import make_server

from tests.asn.conftest import jpeg_bytes, report_data
from tests.conftest import CSRF_RE, PASSWORD

PHOTO = jpeg_bytes(400, 300)
# How the 503 page says that nothing was saved.
DOWN_MESSAGE = "Data Anda belum tersimpan"


@dataclass
class Answer:
    """One submission: its form key, the status (0 if no answer came), body and timing."""

    form_key: str
    status: int
    body: str
    location: str
    started: float
    seconds: float


class Served:
    """The app on a threaded werkzeug server on a free loopback port."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.thread.join(10)


def signed_in_session(base_url: str, nip: str) -> requests.Session:
    """A browser-like session signed in as the ASN."""
    session = requests.Session()
    html = session.get(f"{base_url}/auth/masuk", timeout=10).text
    match = CSRF_RE.search(html)
    data = {
        "csrf_token": match.group(1) or match.group(2),
        "role": "asn",
        "identifier": nip,
        "password": PASSWORD,
        "next": "",
    }
    response = session.post(f"{base_url}/auth/masuk", data=data, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    return session


def post_report(session: requests.Session, url: str, csrf: str, form_key: str) -> Answer:
    """Send one report with a photo; never raises on a broken connection."""
    data = report_data({"csrf_token": csrf, "form_key": form_key})
    data.pop("photo", None)
    started = time.monotonic()
    try:
        response = session.post(
            url,
            data=data,
            files={"photo": ("nota.jpg", PHOTO, "image/jpeg")},
            allow_redirects=False,
            timeout=30,
        )
        status, body = response.status_code, response.text
        location = response.headers.get("Location", "")
    except requests.RequestException as exc:
        status, body, location = 0, repr(exc), ""
    return Answer(form_key, status, body, location, started, time.monotonic() - started)


class Submitter(threading.Thread):
    """Posts reports as one ASN until `stop` is set."""

    def __init__(self, base_url: str, form_url: str, nip: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.url = base_url + form_url
        self.stop = stop
        self.answers: list[Answer] = []
        self.session = signed_in_session(base_url, nip)
        match = CSRF_RE.search(self.session.get(self.url, timeout=10).text)
        self.csrf = match.group(1) or match.group(2)

    def run(self) -> None:
        while not self.stop.is_set():
            self.answers.append(post_report(self.session, self.url, self.csrf, uuid.uuid4().hex))
            time.sleep(0.05)


def receipt_id(answer: Answer) -> int | None:
    """The report id a redirect to the receipt names."""
    match = re.search(r"/asn/laporan/(\d+)$", answer.location)
    return int(match.group(1)) if match else None


def build_world(app, submitters: int) -> tuple[str, list[str]]:
    """Migrate the app's empty database; one stall's form URL and the submitters' NIPs."""
    from flask_migrate import upgrade

    from promkm_qr import reference
    from promkm_qr.extensions import db
    from promkm_qr.stalls.links import link_token
    from tests.factories import make_asn, make_stall

    with app.app_context():
        upgrade()
        reference.load_regions(app.config["REGIONS_CSV"])
        reference.seed_defaults()
        stall = make_stall(name="Pecel Bu Wiwik")
        form_url = f"/asn/lapor/{link_token(stall.code, stall.poster_version)}"
        nips = [make_asn(name=f"ASN {i}").nip for i in range(submitters)]
        db.session.remove()
    return form_url, nips
