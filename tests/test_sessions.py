"""Server-side sessions: staff idle and absolute limits with the clock moved, the list of
one's own sessions, ending the others, sign-out, and resets that end a person's sessions."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from promkm_qr.accounts import sessions
from promkm_qr.accounts.devices import device_summary, mask_address
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, UserSession
from promkm_qr.models.base import utcnow
from tests.conftest import PASSWORD, csrf_token, login
from tests.dashboard.test_admin_pages import _settings_form
from tests.factories import make_asn, make_merchant, make_staff

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
LAPTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


class Clock:
    """The sessions' clock, moved by the test."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def move(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    monkeypatch.setattr(sessions, "utcnow", moved)
    return moved


def _device(client, user_agent: str, address: str):
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return client


def _in(client, path: str) -> bool:
    """Whether the client is still signed in: the page answers without sending it to sign in."""
    response = client.get(path)
    return "/auth/masuk" not in response.headers.get("Location", "") and response.status_code < 400


def _signed_out_to(response, path: str) -> str:
    """The sign-in page a refused request was sent to, with next= kept."""
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/masuk?next=" + path.replace("/", "%2F"))
    return response.headers["Location"]


def test_staff_session_ends_after_30_idle_minutes_with_next_kept(app, client, clock):
    make_staff("reviewer", username="rina")
    assert login(client, "dinas", "rina").status_code == 302
    for _ in range(3):  # in use every 29 minutes: idle time counts from the last request
        clock.move(minutes=29)
        assert _in(client, "/dinas/")
    clock.move(minutes=30)
    location = _signed_out_to(client.get("/dinas/tinjauan"), "/dinas/tinjauan")
    page = client.get(location).get_data(as_text=True)
    assert "tidak ada aktivitas selama 30 menit" in page
    assert '<input id="next" name="next" type="hidden" value="/dinas/tinjauan">' in page
    row = db.session.scalar(select(UserSession))
    assert row.ended_at == clock.now
    # Signed out once, told once: the next page is the plain sign-in redirect, no message.
    again = client.get(client.get("/dinas/").headers["Location"]).get_data(as_text=True)
    assert "tidak ada aktivitas" not in again
    # Signing in again with next= lands where the person was.
    response = login(client, "dinas", "rina", next_url="/dinas/tinjauan")
    assert response.headers["Location"].endswith("/dinas/tinjauan")


def test_staff_session_ends_12_hours_after_sign_in_however_busy(app, client, clock):
    make_staff("operator", username="oki")
    login(client, "dinas", "oki")
    for _ in range(35):  # a request every 20 minutes, up to 11 h 40 min
        clock.move(minutes=20)
        assert _in(client, "/dinas/")
    clock.move(minutes=20)
    location = _signed_out_to(client.get("/dinas/"), "/dinas/")
    assert "sudah berlangsung 12 jam" in client.get(location).get_data(as_text=True)


def test_admin_sets_shorter_staff_limits_and_asn_keep_longer_ones(app, clock):
    admin = app.test_client()
    make_staff("admin", username="admin")
    login(admin, "dinas", "admin")
    form = _settings_form(admin, session_staff_idle_minutes="10", session_staff_absolute_hours="2")
    assert admin.post("/dinas/pengaturan", data=form).status_code == 302
    refused = admin.post(
        "/dinas/pengaturan",
        data=_settings_form(admin, session_staff_idle_minutes="300"),
    )
    assert refused.status_code == 400 and "Angka bulat 5 sampai 240" in refused.get_data(True)
    staff, asn = app.test_client(), app.test_client()
    make_staff("viewer", username="vita")
    person = make_asn()
    login(staff, "dinas", "vita")
    login(asn, "asn", person.nip)
    clock.move(minutes=11)
    assert not _in(staff, "/dinas/")
    # ASN and merchants: 7 days idle, 30 days from sign-in (fixed, docs/operations.md).
    for _ in range(4):
        clock.move(days=6, hours=23)
        assert _in(asn, "/asn/")
    clock.move(days=2, hours=4)  # 30 days since sign-in, though used 2 days ago
    assert not _in(asn, "/asn/")
    late = app.test_client()
    login(late, "asn", person.nip)
    clock.move(days=7, minutes=1)
    assert not _in(late, "/asn/")


@pytest.mark.parametrize("role", ["asn", "merchant", "dinas"])
def test_every_account_lists_its_sessions_and_ends_the_others(app, clock, role):
    person = {"asn": make_asn, "merchant": make_merchant}.get(role, make_staff)()
    key = {"asn": person.nip, "merchant": person.phone, "dinas": person.username}[role]
    phone = _device(app.test_client(), PHONE_UA, "203.0.113.45")
    laptop = _device(app.test_client(), LAPTOP_UA, "2001:db8:abcd:12::7")
    for client in (phone, laptop):
        assert login(client, role, key).status_code == 302
    clock.move(minutes=3)
    page = phone.get("/auth/sesi").get_data(as_text=True)
    assert "Chrome · Android" in page and "Firefox · Windows" in page
    assert "203.0.113.0/24" in page and "2001:db8:abcd::/48" in page
    assert "203.0.113.45" not in page and "abcd:12" not in page
    assert page.index("Sesi ini") < page.index("Firefox · Windows")  # this browser first
    assert "Akhiri sesi lain" in page

    token = csrf_token(phone, "/auth/sesi")
    response = phone.post("/auth/sesi/akhiri-lain", data={"csrf_token": token})
    assert response.status_code == 302
    page = phone.get("/auth/sesi").get_data(as_text=True)
    assert "1 sesi lain diakhiri." in page
    assert "Firefox · Windows" not in page and "Tidak ada sesi lain." in page
    home = {"asn": "/asn/", "merchant": "/umkm/", "dinas": "/dinas/"}[role]
    location = _signed_out_to(laptop.get(home), home)
    assert "Sesi Anda sudah diakhiri" in laptop.get(location).get_data(as_text=True)
    assert _in(phone, home)
    ended = select(AuditEntry).where(AuditEntry.action == "account.sessions_ended")
    entry = db.session.scalar(ended)
    assert (entry.actor_id, entry.data) == (person.id, {"count": 1})


def test_sign_out_ends_the_session_on_the_server(app, client):
    person = make_merchant()
    login(client, "merchant", person.phone)
    cookie = client.get_cookie("session").value
    token = csrf_token(client, "/auth/sandi")
    client.post("/auth/keluar", data={"csrf_token": token})
    assert db.session.scalar(select(UserSession.ended_at)) is not None
    # A copy of the signed-in cookie taken before the sign-out no longer signs anyone in.
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert not _in(copy, "/umkm/")


def test_admin_reset_of_second_factor_ends_the_staff_members_sessions(app):
    admin, target = app.test_client(), app.test_client()
    make_staff("admin", username="admin")
    member = make_staff("operator", username="budi")
    login(admin, "dinas", "admin")
    login(target, "dinas", "budi")
    assert _in(target, "/dinas/")
    url = f"/dinas/staf/{member.id}"
    admin.post(url + "/dua-langkah", data={"csrf_token": csrf_token(admin, url)})
    assert not _in(target, "/dinas/")
    db.session.expire_all()
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == member.id)).all()
    # The reset bumped the session version; the refused request also marked the row ended.
    assert [(r.version < member.session_version, r.ended_at is not None) for r in rows] == [
        (True, True)
    ]
    assert _in(admin, "/dinas/")  # the admin's own session goes on


def test_password_change_leaves_only_this_session_listed(app):
    person = make_asn()
    here, there = app.test_client(), app.test_client()
    login(here, "asn", person.nip)
    login(there, "asn", person.nip)
    token = csrf_token(here, "/auth/sandi")
    new = "kata-sandi-baru-77"
    form = {"csrf_token": token, "current": "rahasia-123", "password": new, "confirm": new}
    assert here.post("/auth/sandi", data=form).status_code == 302
    assert not _in(there, "/asn/")
    assert here.get("/auth/sesi").get_data(as_text=True).count("<li>") == 1


def test_last_seen_is_written_at_most_once_a_minute(app, client, clock):
    person = make_asn()
    login(client, "asn", person.nip)
    signed_in = db.session.scalar(select(UserSession.last_seen_at))
    clock.move(seconds=59)
    client.get("/asn/")
    assert db.session.scalar(select(UserSession.last_seen_at)) == signed_in
    clock.move(seconds=2)
    client.get("/asn/")
    assert db.session.scalar(select(UserSession.last_seen_at)) == clock.now


def test_a_cookie_without_a_session_row_is_refused(app, client):
    person = make_asn()
    login(client, "asn", person.nip)
    with client.session_transaction() as cookie:
        cookie["sid"] = "forged"
    assert not _in(client, "/asn/")


def test_device_names_and_masked_addresses():
    assert device_summary(PHONE_UA) == "Chrome · Android"
    assert device_summary(LAPTOP_UA) == "Firefox · Windows"
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
    )
    assert device_summary(iphone) == "Safari · iPhone"
    edge = LAPTOP_UA.replace("Firefox/121.0", "Chrome/120.0 Safari/537.36 Edg/120.0")
    assert device_summary(edge) == "Edge · Windows"
    assert device_summary("Werkzeug/3.0") == "" and device_summary(None) == ""
    assert mask_address("198.51.100.200") == "198.51.100.0/24"
    assert mask_address("::ffff:198.51.100.200") == "198.51.100.0/24"
    assert mask_address("2001:db8:1:2:3::9") == "2001:db8:1::/48"
    assert mask_address("not an address") is None and mask_address(None) is None


def test_the_half_signed_in_mark_lasts_15_minutes(app, client):
    make_staff("reviewer", username="rina")
    token = csrf_token(client, "/auth/masuk")
    form = {"csrf_token": token, "role": "dinas", "identifier": "rina", "password": PASSWORD}
    assert client.post("/auth/masuk", data=form).headers["Location"].endswith("/dua-langkah")
    assert client.get("/auth/dua-langkah").status_code == 200
    with client.session_transaction() as cookie:
        mark = cookie["half_signed_in"]
        cookie["half_signed_in"] = {**mark, "at": mark["at"] - 16 * 60}
    assert client.get("/auth/dua-langkah").status_code == 404
