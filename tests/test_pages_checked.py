"""Every page each role reaches passes axe-core (WCAG 2.2 AA, no serious or critical
violation) and the Nu Html Checker (no error); on a 390-px phone none scrolls sideways, every
scroll box takes keyboard focus and every menu link, button and field is at least 24x24 px.

The pages come from the URL map: every GET route, built with ids from the data below, that
answers the signed-in role with an HTML page (downloads, photos and redirects are not pages),
plus the error pages, each of the ASN's receipts and forms sent empty. A new page is walked
without anyone listing it; a new route argument without a value here fails the test.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from promkm_qr.api import webhooks
from promkm_qr.api.clients import create_client
from promkm_qr.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import Document, Evidence, Kecamatan, Stall, User, WebhookDelivery
from promkm_qr.models.base import utcnow
from promkm_qr.stalls.links import link_token
from promkm_qr.storage import get_storage
from tests.asn.conftest import jpeg_bytes
from tests.conftest import PASSWORD, browser_second_step
from tests.factories import make_report, make_staff
from tests.support import checkers, services

# role: (sign-in role, identifier, password); None walks signed out.
ROLES = {
    "anon": None,
    "asn": ("asn", DEMO_LOGINS["asn"], DEMO_PASSWORD),
    "merchant": ("merchant", DEMO_LOGINS["merchant"], DEMO_PASSWORD),
    "admin": ("dinas", DEMO_LOGINS["dinas"], DEMO_PASSWORD),
    "operator": ("dinas", "operator", PASSWORD),
    "reviewer": ("dinas", "reviewer", PASSWORD),
    "viewer": ("dinas", "viewer", PASSWORD),
    "scoped": ("dinas", "scoped", PASSWORD),
}
# Routes whose arguments name files, not objects: none of them is a page.
FILE_ROUTES = {"static", "asn.vendor", "dinas.export"}
PHONE = {"width": 390, "height": 844}  # a mid-range Android's viewport
DESKTOP = {"width": 1280, "height": 800}
# Checked on a desktop screen too: the public pages, and every staff page (admin reaches
# them all; the other staff roles see the same templates with less in them).
ON_DESKTOP = {"anon", "admin"}
STATES = ("submitted", "confirmed", "verified", "disputed", "rejected", "withdrawn")


@pytest.fixture
def town(app):
    """The demo town, the other staff roles, the demo ASN's reports in every state (one
    flagged, one with a photo at the demo merchant's stall), a finished job and document."""
    build_demo(stalls=40, asn=12, months=2, seed=3)
    for role in ("operator", "reviewer", "viewer"):
        make_staff(role, username=role)
    kartoharjo = db.session.scalar(select(Kecamatan).where(Kecamatan.code == "35.77.01"))
    make_staff("operator", username="scoped", scope_kecamatan_id=kartoharjo.id)
    asn = db.session.scalar(select(User).where(User.nip == DEMO_LOGINS["asn"]))
    merchant = db.session.scalar(select(User).where(User.phone == DEMO_LOGINS["merchant"]))
    stall = db.session.scalars(select(Stall).where(Stall.owner_id == merchant.id)).first()
    storage = get_storage()
    photo = jpeg_bytes(640, 480)
    digest = storage.put("walk/photo.jpg", photo)
    storage.put("walk/thumb.jpg", photo)
    evidence = Evidence(
        storage_key="walk/photo.jpg",
        thumb_key="walk/thumb.jpg",
        sha256=digest,
        original_sha256=digest,
        phash="0" * 16,
        width=640,
        height=480,
    )
    db.session.add(evidence)
    db.session.flush()
    now = utcnow()
    awaiting = make_report(
        asn, stall, 1_250_000, now - timedelta(hours=2), evidence=evidence, flags=["amount_high"]
    )
    receipts = [awaiting.id] + [
        make_report(asn, stall, 35_000, now - timedelta(hours=3 + i), state).id
        for i, state in enumerate(STATES[1:])
    ]
    operator = db.session.scalar(select(User).where(User.username == "operator"))
    job = create_job("posters", created_by_id=operator.id)
    job.result_key = "walk/posters.pdf"
    storage.put(job.result_key, b"%PDF-1.7")
    storage.put("walk/receipt.pdf", b"%PDF-1.7")
    finish_job(job)
    document = Document(
        public_id="WALKDOC",
        kind="asn_receipt",
        subject=str(asn.id),
        period=now.strftime("%Y-%m"),
        state="done",
        storage_key="walk/receipt.pdf",
        checksum=digest,
        pages=1,
        size=1234,
        generated_at=now,
    )
    db.session.add(document)
    db.session.commit()
    args = {
        "report_id": awaiting.id,
        "token": link_token(stall.code, stall.poster_version),
        "job_id": job.id,
        "user_id": operator.id,
        "asn_id": asn.id,
        "stall_id": stall.id,
        "doc_id": document.id,
        "public_id": document.public_id,
        "subscription_id": _integrations(),
        "document_id": document.public_id,
    }
    extra = {
        "anon": ["/tidak-ada"],  # the 404 page
        "asn": ["/dinas/dasbor"] + [f"/asn/laporan/{rid}" for rid in receipts[1:]],  # 403
    }
    # Forms sent empty, to check the page that shows their errors.
    refused = {
        "anon": ["/auth/masuk", "/auth/aktivasi"],
        "asn": ["/auth/sandi", "/asn/pindai", f"/asn/lapor/{args['token']}"],
    }
    return args, extra, refused


def _integrations() -> int:
    """An API client, and a subscription with a failed delivery, so their pages show rows."""
    create_client("Portal data", ["read:stalls"])
    subscription_id, _secret = webhooks.subscribe(
        "http://127.0.0.1:9/hook", ["report.verified"], None
    )
    delivery = WebhookDelivery(
        subscription_id=subscription_id, message_id="msg_walk", event="report.verified", payload={}
    )
    delivery.attempts, delivery.last_status, delivery.last_error = 2, 500, "HTTP 500"
    db.session.add(delivery)
    db.session.commit()
    return subscription_id


def candidate_urls(app, args: dict) -> list[str]:
    """Every GET route of the URL map, built with the town's ids."""
    urls, unbuilt = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in FILE_ROUTES:
            continue
        if not rule.arguments <= args.keys():
            unbuilt.append(f"{rule.endpoint} needs {sorted(rule.arguments - args.keys())}")
            continue
        urls.append(rule.build(args, append_unknown=False)[1])
    assert not unbuilt, f"give these route arguments a value in the town: {unbuilt}"
    return sorted(set(urls))


def sign_in(page, app, base: str, who: tuple[str, str, str]) -> None:
    role, identifier, password = who
    page.goto(f"{base}/auth/masuk")
    page.check(f"input[name=role][value={role}]")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click("form button.primary")
    if role == "dinas":
        browser_second_step(page, app, identifier)
    page.wait_for_function("!location.pathname.startsWith('/auth/masuk')")


def is_page(page, url: str, extra: list[str]) -> bool:
    """Whether the URL answers this role with HTML (not a download, photo or redirect)."""
    if url in extra:
        return True
    answer = page.request.get(url, max_redirects=0)
    return answer.status == 200 and answer.headers.get("content-type", "").startswith("text/html")


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_of_every_role_passes_the_checkers(app, town, browser, live_server):
    services.need("axe-core, vnu-jar and Java", checkers.missing() is None, checkers.missing())
    args, extra, refused = town
    urls = candidate_urls(app, args)
    problems: dict[str, list[str]] = {}
    html: dict[str, str] = {}
    walked = {}
    for role, who in ROLES.items():
        context = browser.new_context(
            base_url=live_server,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="id-ID",
            timezone_id="Asia/Jakarta",
            bypass_csp=True,  # to inject axe-core; the app's CSP allows no inline script
        )
        page = context.new_page()
        try:
            if who:
                sign_in(page, app, live_server, who)
            pages = [u for u in urls + extra.get(role, []) if is_page(page, u, extra.get(role, []))]
            walked[role] = len(pages)
            for url in pages:
                name = f"{role} {url}"
                response = page.goto(url)
                html[name] = response.text()
                found = checkers.check_page(page)
                if role in ON_DESKTOP:
                    page.set_viewport_size(DESKTOP)
                    found += [f"desktop: {problem}" for problem in checkers.check_page(page)]
                    page.set_viewport_size(PHONE)
                if found:
                    problems[name] = found
            for url in refused.get(role, []):
                name = f"{role} {url} sent empty"
                page.goto(url)
                with page.expect_navigation() as sent:
                    # Sent by the browser itself: the report form's script would send it by
                    # fetch and show the errors in place (the page checked is the server's).
                    page.locator("form[novalidate]").first.evaluate("form => form.submit()")
                html[name] = sent.value.text()
                if found := checkers.check_page(page):
                    problems[name] = found
        finally:
            context.close()
    for name, errors in checkers.vnu_errors(html).items():
        problems.setdefault(name, []).extend(errors)
    assert walked["anon"] >= 4 and walked["asn"] >= 8 and walked["admin"] >= 15, walked
    report = "\n".join(
        f"{name}\n    " + "\n    ".join(found) for name, found in sorted(problems.items())
    )
    assert not problems, f"{len(problems)} of {len(html)} pages fail the checkers:\n{report}"
