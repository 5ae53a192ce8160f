"""A report made with no signal: kept on the phone, sent once when the network returns.

Headless Chromium with its network switched off (`context.set_offline`), the app's own
service worker, and the database checked for exactly one report per item.
"""

import pytest
from sqlalchemy import func, select

from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport
from promkm_qr.stalls.links import link_token
from tests.asn.conftest import jpeg_bytes
from tests.conftest import PASSWORD

SHELL_KEPT = """async () => {
  const cache = await caches.open("promkm-pages");
  return !!(await cache.match("/asn/lapor-luring")) && !!(await cache.match("/asn/"));
}"""


def reports() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(PurchaseReport))


def sign_in(page, server: str, nip: str, next_url: str = "/asn/") -> None:
    page.goto(f"{server}/auth/masuk?next={next_url}")
    page.fill("input[name=identifier]", nip)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Masuk')")
    page.wait_for_url(f"**{next_url}")


def installed(page) -> None:
    """Signed in and online once: the worker runs and has kept the app shell."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(SHELL_KEPT, polling=200, timeout=15000)


def fill_report(page, photo, amount: str = "45.000") -> None:
    page.fill("input[name=amount]", amount)
    page.select_option("select[name=goods_category]", "makanan")
    page.check("input[name=payment_method][value=tunai]")
    if photo is not None:
        page.set_input_files("input[name=photo]", str(photo))
        page.wait_for_selector("[data-photo-status]:not([hidden])")


def queue_title(page) -> str:
    return page.inner_text("[data-queue-title]")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "IMG_12MP.jpg"
    path.write_bytes(jpeg_bytes(4000, 3000, quality=92))
    return path


@pytest.fixture
def profile_phone(browser, tmp_path):
    """A phone with a browser profile on disk: Chromium installs no app from an incognito
    context, which every context of the shared browser is."""
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile",
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )
    yield context.pages[0] if context.pages else context.new_page()
    context.close()


@pytest.mark.browser
def test_installable_by_chromiums_own_verdict(live_server, profile_phone, asn):
    phone = profile_phone
    sign_in(phone, live_server, asn.nip)
    installed(phone)
    phone.reload()
    cdp = phone.context.new_cdp_session(phone)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [] and '"start_url": "/asn/"' in manifest["data"]


@pytest.mark.browser
def test_offline_report_is_kept_survives_a_reload_and_is_sent_once(
    live_server, phone, asn, stall, photo
):
    sign_in(phone, live_server, asn.nip)
    token = link_token(stall.code, stall.poster_version)
    phone.goto(f"{live_server}/q/{token}")  # seen online once: the phone knows its name
    installed(phone)

    phone.context.set_offline(True)
    phone.goto(f"{live_server}/q/{token}")  # the camera app opens the poster link
    assert phone.inner_text("[data-offline-code]") == stall.code
    phone.wait_for_function("document.querySelector('[data-offline-name]').textContent.length")
    assert phone.inner_text("[data-offline-name]") == "Pecel Bu Wiwik"
    fill_report(phone, photo)
    phone.click("[data-submit]")
    phone.wait_for_selector("[data-queue]:not([hidden])")
    assert queue_title(phone) == "Menunggu dikirim: 1"
    assert "Pecel Bu Wiwik" in phone.inner_text("[data-queue-list]")
    assert "Rp45.000" in phone.inner_text("[data-queue-list]")

    phone.reload()  # still offline: the page and the item come from the phone
    phone.wait_for_selector("[data-queue]:not([hidden])")
    assert queue_title(phone) == "Menunggu dikirim: 1"
    assert reports() == 0

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_selector("[data-queue-sent]")
    assert queue_title(phone) == "Menunggu dikirim: 0"
    assert reports() == 1
    phone.click("[data-queue-sent] a")
    phone.wait_for_url("**/asn/laporan/**")
    report = db.session.scalar(select(PurchaseReport))
    assert phone.inner_text("[data-reference]") == report.reference
    assert phone.inner_text("[data-amount]") == "Rp45.000"
