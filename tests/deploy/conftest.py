"""A fresh PostgreSQL database with one ASN and one stall, for the layouts started from deploy/."""

import contextlib
import re
import uuid

import pytest
import requests

from tests.conftest import CSRF_RE, create_pg_database
from tests.faults.conftest import other_app
from tests.support.layout import PASSWORD


@contextlib.contextmanager
def layout_app(env: dict, instance: str):
    """An app built from a layout's environment, for the test's own queries and tasks."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**env, "PROMKM_INSTANCE": instance}.items():
            patch.setenv(key, value)
        with other_app({}) as app, app.app_context():
            yield app


def seed(app) -> dict:
    """Migrate the layout's database and add an ASN, a stall and its poster link.

    The app is built from the layout's own environment, so the link is signed with the
    layout's QR keys. Returns the ASN's NIP and id, the form's path and the app's routes.
    """
    from flask_migrate import upgrade

    from promkm_qr import reference
    from promkm_qr.extensions import db
    from promkm_qr.stalls.links import link_token
    from tests.factories import make_asn, make_stall

    upgrade()
    reference.load_regions(app.config["REGIONS_CSV"])
    reference.seed_defaults()
    asn = make_asn(name="Sri Rahayu")
    stall = make_stall(name="Pecel Bu Wiwik")
    world = {
        "nip": asn.nip,
        "asn_id": asn.id,
        "form_path": f"/asn/lapor/{link_token(stall.code, stall.poster_version)}",
        "routes": {rule.rule for rule in app.url_map.iter_rules()},
    }
    db.session.remove()
    return world


@pytest.fixture(scope="module")
def layout_database(postgres_url, redis_url):
    """A new PostgreSQL database (dropped afterwards); Redis must be reachable too."""
    url, drop = create_pg_database()
    yield url
    drop()


def csrf_of(html: str) -> str:
    """The CSRF token of the page's form."""
    match = CSRF_RE.search(html)
    assert match, html[:500]
    return match.group(1) or match.group(2)


def sign_in(session: requests.Session, base: str, nip: str, **kwargs) -> requests.Response:
    """Sign in as the ASN through the real form; returns the answer (a redirect)."""
    page = session.get(f"{base}/auth/masuk", timeout=20, **kwargs)
    data = {"csrf_token": csrf_of(page.text), "role": "asn", "identifier": nip,
            "password": PASSWORD, "next": ""}  # fmt: skip
    headers = {"Referer": f"{base}/auth/masuk"}  # CSRF checks it over HTTPS
    answer = session.post(f"{base}/auth/masuk", data=data, allow_redirects=False,
                          headers=headers, timeout=20, **kwargs)  # fmt: skip
    assert answer.status_code == 302, answer.text[:500]
    return answer


def report_fields(csrf: str) -> dict:
    """A valid report's form fields (the photo goes separately)."""
    from tests.asn.conftest import report_data

    data = report_data({"csrf_token": csrf, "form_key": uuid.uuid4().hex})
    data.pop("photo", None)
    return data


def report_id_of(answer: requests.Response) -> int:
    """The report id named by the redirect to its receipt."""
    match = re.search(r"/asn/laporan/(\d+)$", answer.headers.get("Location", ""))
    assert match, (answer.status_code, answer.headers.get("Location"), answer.text[:500])
    return int(match.group(1))
