"""A report made with no signal: kept on the phone, sent once when the network returns.

Headless Chromium with its network switched off (`context.set_offline`), the app's own
service worker, and the database checked for exactly one report per item.
"""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from promkm_qr.core import photos
from promkm_qr.extensions import db
from promkm_qr.models import Evidence, PhotoUpload, PurchaseReport
from promkm_qr.stalls.links import link_token
from promkm_qr.storage import get_storage
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


def items_on_the_phone(page) -> int:
    return page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("promkm-outbox", 1);
          open.onsuccess = () => {
            const count = open.result.transaction("items").objectStore("items").count();
            count.onsuccess = () => resolve(count.result);
          };
        })"""
    )


def queue_shows(page, title: str) -> None:
    """The queue's title, waited for: the page renders it after the queue's work is done."""
    expect(page.locator("[data-queue-title]")).to_have_text(title)


@pytest.fixture
def small_photo(tmp_path):
    path = tmp_path / "nota.jpg"
    path.write_bytes(jpeg_bytes(1200, 900))
    return path


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
    # The worker answers the ASN pages; every other page goes to the network untouched.
    assert phone.goto(f"{live_server}/asn/riwayat").from_service_worker
    assert not phone.goto(f"{live_server}/statistik").from_service_worker

    phone.context.set_offline(True)
    phone.goto(f"{live_server}/q/{token}")  # the camera app opens the poster link
    assert phone.inner_text("[data-offline-code]") == stall.code
    phone.wait_for_function("document.querySelector('[data-offline-name]').textContent.length")
    assert phone.inner_text("[data-offline-name]") == "Pecel Bu Wiwik"
    fill_report(phone, photo)
    phone.click("[data-submit]")
    phone.wait_for_selector("[data-queue]:not([hidden])")
    queue_shows(phone, "Menunggu dikirim: 1")
    assert "Pecel Bu Wiwik" in phone.inner_text("[data-queue-list]")
    assert "Rp45.000" in phone.inner_text("[data-queue-list]")

    phone.reload()  # still offline: the page and the item come from the phone
    phone.wait_for_selector("[data-queue]:not([hidden])")
    queue_shows(phone, "Menunggu dikirim: 1")
    assert reports() == 0

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_selector("[data-queue-sent]")
    queue_shows(phone, "Menunggu dikirim: 0")
    assert reports() == 1
    phone.click("[data-queue-sent] a")
    phone.wait_for_url("**/asn/laporan/**")
    report = db.session.scalar(select(PurchaseReport))
    assert phone.inner_text("[data-reference]") == report.reference
    assert phone.inner_text("[data-amount]") == "Rp45.000"
    # The 12 MP photo (8 MB of noise, the worst case) travelled as at most 350 KB, and the
    # evidence the worker makes of it passes the checks.
    upload = db.session.scalar(select(PhotoUpload))
    assert upload.size <= 350_000
    try:
        kept = photos.process_photo(get_storage().get(upload.upload_key))
    except FileNotFoundError:  # a worker processed it already: its evidence is the proof
        db.session.rollback()
        kept = db.session.scalar(
            select(Evidence).join(PurchaseReport, PurchaseReport.evidence_id == Evidence.id)
        )
    assert min(kept.width, kept.height) >= 200


@pytest.fixture
def page_only_phone(browser):
    """A phone whose pages run without the service worker, so the test's network rules
    (page.route) see every request the queue makes."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        service_workers="block",
    )
    yield context.new_page()
    context.close()


def queue_from_the_form(page, server: str, stall, photo=None, amount: str = "45.000") -> None:
    """Open the stall's form online, lose the signal, send: the report waits on the phone."""
    page.goto(f"{server}/q/{link_token(stall.code, stall.poster_version)}")
    fill_report(page, photo, amount)
    page.context.set_offline(True)
    page.click("[data-submit]")
    page.wait_for_selector("[data-queue]:not([hidden])")
    queue_shows(page, "Menunggu dikirim: 1")
    assert "disimpan di ponsel" in page.inner_text("[data-report-notice]")


def back_online(page) -> None:
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")


@pytest.mark.browser
def test_a_send_whose_answer_is_lost_is_sent_again_and_recorded_once(
    live_server, page_only_phone, asn, stall, photo
):
    phone = page_only_phone
    sign_in(phone, live_server, asn.nip)
    phone.goto(f"{live_server}/q/{link_token(stall.code, stall.poster_version)}")
    fill_report(phone, photo)

    def saved_then_dropped(route):
        route.fetch()  # the server records the report...
        route.abort("connectionreset")  # ...and the line drops before the answer arrives

    phone.route("**/asn/lapor/**", saved_then_dropped)
    phone.click("[data-submit]")
    phone.wait_for_selector("[data-queue]:not([hidden])")
    queue_shows(phone, "Menunggu dikirim: 1")
    assert reports() == 1

    phone.unroute("**/asn/lapor/**")
    phone.reload()  # the next page load sends what waits: the same form key
    phone.wait_for_selector("[data-queue-sent]")
    queue_shows(phone, "Menunggu dikirim: 0")
    assert reports() == 1


@pytest.mark.browser
def test_an_item_whose_link_was_revoked_is_refused_kept_and_deletable(
    live_server, phone, asn, stall, small_photo
):
    sign_in(phone, live_server, asn.nip)
    queue_from_the_form(phone, live_server, stall, small_photo)
    stall.poster_version += 1  # a new poster printed with revocation while the item waited
    db.session.commit()

    back_online(phone)
    phone.wait_for_selector("[data-queue-item][data-state=refused]")
    item = phone.inner_text("[data-queue-item]")
    assert "Ditolak:" in item and "Poster ini sudah diganti" in item
    phone.goto(f"{live_server}/asn/riwayat")
    phone.wait_for_selector("[data-queue-item][data-state=refused]")  # kept
    queue_shows(phone, "Menunggu dikirim: 1")
    assert reports() == 0

    phone.once("dialog", lambda dialog: dialog.accept())
    phone.click("[data-queue-item] button:has-text('Hapus')")
    phone.wait_for_selector("[data-queue]", state="hidden")
    assert reports() == 0


def refused_for_the_amount(phone, server: str, stall, photo) -> str:
    """An item queued with an amount over the ceiling (Rp5.000.000), refused when sent: kept
    with the server's words and a way to correct it. Returns the item's form key."""
    queue_from_the_form(phone, server, stall, photo, amount="9.000.000")
    back_online(phone)
    phone.wait_for_selector("[data-queue-item][data-state=refused]")
    assert "Nominal melebihi batas" in phone.inner_text("[data-queue-item]")
    assert reports() == 0
    return phone.get_attribute("[data-queue-item]", "data-queue-item")


def corrected_form(phone, amount: str) -> None:
    """The "Perbaiki" button opens the form with the item's fields, its photo and the
    server's words."""
    phone.click("[data-queue-item] button:has-text('Perbaiki')")
    # A locator wait: a string predicate is evaluated in the page, which its CSP forbids.
    expect(phone.locator("input[name=amount]")).to_have_value("9.000.000")
    assert "Nominal melebihi batas" in phone.inner_text("[data-report-notice]")
    assert phone.input_value("select[name=goods_category]") == "makanan"
    assert phone.is_checked("input[name=payment_method][value=tunai]")
    assert "tetap dipakai" in phone.inner_text("[data-photo-status]")
    phone.fill("input[name=amount]", amount)


def the_one_report(key: str) -> PurchaseReport:
    db.session.rollback()
    assert reports() == 1
    report = db.session.scalar(select(PurchaseReport))
    assert report.amount == 45000 and report.idempotency_key == key  # the same one-time key
    # The photo kept with the item travelled with the correction.
    assert db.session.scalar(select(PhotoUpload.report_id)) == report.id
    return report


@pytest.mark.browser
def test_a_refused_item_is_corrected_in_the_stalls_form_and_sent_once(
    live_server, phone, asn, stall, small_photo
):
    sign_in(phone, live_server, asn.nip)
    key = refused_for_the_amount(phone, live_server, stall, small_photo)
    corrected_form(phone, "45.000")
    assert "/asn/lapor/" in phone.url and "perbaiki=" in phone.url  # the stall's own form
    phone.click("[data-submit]")
    phone.wait_for_url("**/asn/laporan/**")
    assert phone.inner_text("[data-amount]") == "Rp45.000"
    assert items_on_the_phone(phone) == 0  # the corrected item left the queue once sent
    the_one_report(key)


@pytest.mark.browser
def test_a_refused_item_is_corrected_offline_and_sent_when_the_signal_returns(
    live_server, phone, asn, stall, small_photo
):
    sign_in(phone, live_server, asn.nip)
    installed(phone)
    key = refused_for_the_amount(phone, live_server, stall, small_photo)
    phone.context.set_offline(True)
    corrected_form(phone, "45.000")  # the kept form, from the phone
    assert phone.inner_text("[data-offline-code]") == stall.code
    phone.click("[data-submit]")
    phone.wait_for_selector("[data-queue-item][data-state=waiting]")
    queue_shows(phone, "Menunggu dikirim: 1")  # replaced, not added
    assert "Rp45.000" in phone.inner_text("[data-queue-list]")

    back_online(phone)
    phone.wait_for_selector("[data-queue-sent]")
    queue_shows(phone, "Menunggu dikirim: 0")
    the_one_report(key)


@pytest.mark.browser
def test_items_waiting_through_an_expired_session_are_sent_after_signing_in(
    live_server, phone, asn, stall, small_photo
):
    sign_in(phone, live_server, asn.nip)
    queue_from_the_form(phone, live_server, stall, small_photo, amount="30.000")
    phone.context.clear_cookies()  # the session ended while the phone had no signal

    back_online(phone)
    phone.reload()
    assert "/auth/masuk" in phone.url
    assert reports() == 0

    sign_in(phone, live_server, asn.nip)  # a new session, a new CSRF token
    phone.wait_for_selector("[data-queue-sent]")
    assert reports() == 1
    db.session.rollback()
    assert db.session.scalar(select(PurchaseReport.amount)) == 30000


@pytest.mark.browser
def test_signing_out_warns_and_clears_the_accounts_waiting_items(
    live_server, page_only_phone, asn, stall
):
    phone = page_only_phone  # no Background Sync sending the item behind the test's back
    sign_in(phone, live_server, asn.nip)
    queue_from_the_form(phone, live_server, stall)
    phone.route("**/asn/kirim-token", lambda route: route.abort())  # the line is still bad
    phone.context.set_offline(False)
    warned = []

    def accept(dialog):
        warned.append(dialog.message)
        dialog.accept()

    phone.once("dialog", accept)
    phone.click("button:has-text('Keluar')")
    phone.wait_for_url("**/auth/masuk")
    assert "belum terkirim" in warned[0]
    assert items_on_the_phone(phone) == 0 and reports() == 0


@pytest.mark.browser
def test_with_javascript_off_the_form_still_reports(live_server, browser, asn, stall, photo):
    context = browser.new_context(java_script_enabled=False, locale="id-ID")
    phone = context.new_page()
    try:
        sign_in(phone, live_server, asn.nip)
        phone.goto(f"{live_server}/q/{link_token(stall.code, stall.poster_version)}")
        phone.fill("input[name=amount]", "45.000")
        phone.select_option("select[name=goods_category]", "makanan")
        phone.set_input_files("input[name=photo]", str(photo))
        phone.click("[data-submit]")
        phone.wait_for_url("**/asn/laporan/**")
        assert phone.inner_text("[data-amount]") == "Rp45.000"
        assert reports() == 1
    finally:
        context.close()


@pytest.mark.browser
def test_at_most_20_items_wait_and_the_21st_is_refused_in_words(live_server, phone, asn, stall):
    sign_in(phone, live_server, asn.nip)
    installed(phone)
    phone.evaluate(
        """(user) => Promise.all(Array.from({ length: 20 }, (_, i) => PromkmOutbox.add({
          key: "k" + i, user: user, action: "/asn/", stallCode: "x", stallName: "Lapak " + i,
          fields: { amount: "1000", purchased_at: "2026-12-06T09:00" }, photo: null
        })))""",
        asn.id,
    )
    phone.context.set_offline(True)
    phone.goto(f"{live_server}/asn/")  # from the phone
    phone.wait_for_selector("[data-queue]:not([hidden])")
    queue_shows(phone, "Menunggu dikirim: 20")
    phone.route("**/asn/kirim-token", lambda route: route.abort())  # still no line to send
    phone.context.set_offline(False)
    phone.goto(f"{live_server}/q/{link_token(stall.code, stall.poster_version)}")
    fill_report(phone, None)
    phone.context.set_offline(True)
    phone.click("[data-submit]")
    phone.wait_for_selector("[data-report-notice]:not([hidden])")
    assert "Sudah ada 20 laporan" in phone.inner_text("[data-report-notice]")
    queue_shows(phone, "Menunggu dikirim: 20")


FILE_CACHES = (
    """async () => (await caches.keys()).filter((name) => name.startsWith("promkm-files-"))"""
)


@pytest.mark.browser
def test_a_new_release_replaces_the_workers_cache(live_server, phone, asn, monkeypatch):
    from promkm_qr.public import webapp

    sign_in(phone, live_server, asn.nip)
    installed(phone)
    (before,) = phone.evaluate(FILE_CACHES)
    # A release whose files differ: another file list, so another worker version.
    monkeypatch.setattr(webapp, "APP_FILES", webapp.APP_FILES[:-1])
    phone.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    replaced = "async (old) => { const n = await (%s)(); return n.length === 1 && n[0] !== old; }"
    phone.wait_for_function(replaced % FILE_CACHES, arg=before)
    phone.reload()  # the new worker keeps the shell again
    installed(phone)
