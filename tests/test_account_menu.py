"""On a 360-px phone each role's menu holds at most two lines, and every account page
linked from the Akun page opens for that role."""

import os
from pathlib import Path

import pytest

from promkm_qr.extensions import db
from tests.conftest import PASSWORD, login, phone_context
from tests.factories import make_asn, make_merchant, make_notification, make_staff
from tests.test_pages_checked import sign_in

SMALL_PHONE = {"width": 360, "height": 740}  # the narrowest phones still sold in Madiun
# Set to a directory to keep a screenshot of each home and Akun page (to look at them).
SHOTS = os.environ.get("PROMKM_SCREENSHOTS")

# role: (sign-in role, make the account, identifier attribute)
PEOPLE = {
    "asn": ("asn", lambda: make_asn(), "nip"),
    "merchant": ("merchant", lambda: make_merchant(), "phone"),
    "admin": ("dinas", lambda: make_staff("admin", username="kepala"), "username"),
    "viewer": ("dinas", lambda: make_staff("viewer", username="pengamat"), "username"),
}

# The number of lines the menu's links and buttons sit on (their distinct tops).
MENU_LINES = """() => new Set([...document.querySelectorAll('header nav a, header nav button')]
  .filter(e => e.offsetParent !== null)
  .map(e => Math.round(e.getBoundingClientRect().top))).size"""


def _unread(user, n: int = 12) -> None:
    """Unread reminders, so the menu shows its widest count."""
    for i in range(n):
        make_notification(user, f"menu:{user.id}:{i}", kind="merchant_digest", subject="Pengingat")
    db.session.commit()


def _signed_in_phone(browser, app, live_server, role: str):
    sign_in_as, make, attribute = PEOPLE[role]
    user = make()
    _unread(user)
    context = phone_context(browser, **SMALL_PHONE, base_url=live_server)
    page = context.new_page()
    sign_in(page, app, live_server, (sign_in_as, getattr(user, attribute), PASSWORD))
    return context, page


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("role", ["asn", "merchant"])
def test_the_menu_fits_two_lines_on_a_small_phone(app, browser, live_server, role, lang):
    context, page = _signed_in_phone(browser, app, live_server, role)
    try:
        page.goto(f"{page.url}?lang={lang}")
        _shot(page, f"{role}-home-{lang}")
        lines = page.evaluate(MENU_LINES)
        assert lines <= 2, f"{role}: the menu takes {lines} lines at 360 px ({lang})"
        assert "(12)" in page.inner_text("header nav")  # the unread count stays in sight
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("role", ["asn", "merchant", "admin"])
def test_every_page_linked_from_akun_opens_for_the_role(app, browser, live_server, role):
    context, page = _signed_in_phone(browser, app, live_server, role)
    try:
        page.click("header nav >> text=Akun")
        page.wait_for_url("**/auth/akun")
        _shot(page, f"{role}-akun")
        assert page.get_attribute("header nav >> text=Akun", "aria-current") == "page"
        links = page.eval_on_selector_all(".account-list a", "as => as.map(a => a.href)")
        expected = {"/auth/sandi", "/auth/sesi", "/pemberitahuan/pengaturan"}
        if role != "admin":
            expected.add("/data-saya")
        assert {link.removeprefix(live_server) for link in links} == expected
        for link in links:
            with page.expect_navigation() as opened:
                page.click(f".account-list a[href='{link.removeprefix(live_server)}']")
            assert opened.value.status == 200 and page.url == link
            assert page.get_attribute("header nav >> text=Akun", "aria-current") == "page"
            page.go_back()
        if role == "admin":
            assert "Verifikasi dua langkah" in page.inner_text(".account-list")
    finally:
        context.close()


def test_the_akun_page_is_always_the_callers_own(client):
    make_asn(name="Sri Rahayu")
    other = make_asn(name="Bambang Wibowo")
    login(client, "asn", other.nip)
    page = client.get("/auth/akun").get_data(as_text=True)
    assert "Bambang Wibowo" in page and "Sri Rahayu" not in page
    # Anything after the path names nobody: the page stays the caller's.
    assert "Sri Rahayu" not in client.get("/auth/akun?user_id=1").get_data(as_text=True)


def test_staff_see_the_state_of_their_second_factor_and_no_data_download(client):
    staff = make_staff("operator", username="petugas")
    login(client, "dinas", "petugas")
    page = client.get("/auth/akun").get_data(as_text=True)
    assert "Verifikasi dua langkah" in page and "Aktif: kode" in page
    assert 'href="/data-saya"' not in page
    staff.totp_secret = None  # as after an admin's reset, before signing in again
    db.session.commit()
    assert "Belum aktif" in client.get("/auth/akun").get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_staff_menus_fit_two_lines_on_a_tablet(app, browser, live_server, role):
    """Staff have 7 to 15 work links and work at a desk; a 768-px tablet is their narrowest."""
    context, page = _signed_in_phone(browser, app, live_server, role)
    try:
        page.set_viewport_size({"width": 768, "height": 1024})
        lines = page.evaluate(MENU_LINES)
        assert lines <= 2, f"{role}: the menu takes {lines} lines at 768 px"
    finally:
        context.close()
