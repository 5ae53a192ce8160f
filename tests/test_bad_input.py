"""Bad input on the settings, sign-in, staff and activation forms: a clear answer, nothing
saved, and what was typed still in the form."""

import html

import pytest
from sqlalchemy import func, select

from promkm_qr.accounts import activation
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, User
from promkm_qr.reference import DEFAULT_SETTINGS, get_setting
from tests.conftest import PASSWORD, csrf_token, login
from tests.dashboard.test_admin_pages import _settings_form
from tests.factories import make_merchant, make_staff

IDLE, LIFETIME = "session_staff_idle_minutes", "session_staff_absolute_hours"


def _as_admin(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (IDLE, "tiga puluh", "Angka bulat 5 sampai 240."),
        (IDLE, "4", "Angka bulat 5 sampai 240."),
        (IDLE, "241", "Angka bulat 5 sampai 240."),
        (IDLE, "7.5", "Angka bulat 5 sampai 240."),
        (IDLE, "-10", "Angka bulat 5 sampai 240."),
        # A digit Python's isdigit() accepts but int() does not.
        (IDLE, "3²", "Angka bulat 5 sampai 240."),
        (LIFETIME, "0", "Angka bulat 1 sampai 24."),
        (LIFETIME, "25", "Angka bulat 1 sampai 24."),
        (LIFETIME, "dua belas", "Angka bulat 1 sampai 24."),
        (LIFETIME, "", "Angka bulat 1 sampai 24."),
    ],
)
def test_session_limits_out_of_range_or_not_numbers_are_refused(client, field, typed, message):
    _as_admin(client)
    entries = _count(AuditEntry)
    form = _settings_form(client, **{field: typed}, brand_dinas="Dinas Baru Diketik")
    response = client.post("/dinas/pengaturan", data=form)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page
    assert f'value="{typed}"' in page and "Dinas Baru Diketik" in page
    assert _count(AuditEntry) == entries
    assert get_setting("sessions") == DEFAULT_SETTINGS["sessions"]
    assert get_setting("branding")["dinas"] != "Dinas Baru Diketik"


def test_an_idle_limit_longer_than_the_session_itself_is_refused(client):
    _as_admin(client)
    form = _settings_form(client, **{IDLE: "240", LIFETIME: "2"})
    response = client.post("/dinas/pengaturan", data=form)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Tidak boleh lebih lama dari umur sesi." in page
    assert 'value="240"' in page and 'value="2"' in page
    assert get_setting("sessions") == DEFAULT_SETTINGS["sessions"]


def test_a_staff_form_without_its_csrf_token_changes_nothing(client):
    _as_admin(client)
    form = _settings_form(client, **{IDLE: "10"}, brand_dinas="Dinas Tanpa Token")
    del form["csrf_token"]
    entries, users = _count(AuditEntry), _count(User)
    response = client.post("/dinas/pengaturan", data=form)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    new_staff = {"username": "baru", "name": "Staf Baru", "staff_role": "viewer"}
    response = client.post("/dinas/staf", data={**new_staff, "password": PASSWORD})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert (_count(AuditEntry), _count(User)) == (entries, users)
    assert get_setting("sessions") == DEFAULT_SETTINGS["sessions"]
    assert get_setting("branding")["dinas"] != "Dinas Tanpa Token"
    assert client.get("/dinas/pengaturan").status_code == 200  # the admin is still signed in


def test_a_sign_in_without_its_csrf_token_signs_nobody_in(client):
    make_staff("admin", username="admin")
    client.get("/auth/masuk")
    entries = _count(AuditEntry)
    data = {"role": "dinas", "identifier": "admin", "password": PASSWORD}
    response = client.post("/auth/masuk", data=data)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert _count(AuditEntry) == entries
    assert db.session.scalar(select(User.last_login_at).where(User.username == "admin")) is None
    assert client.get("/dinas/").status_code == 302  # still signed out


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0351-462345", "gunakan nomor seluler"),  # a Madiun landline
        ("+1 202 555 0100", "Nomor HP harus diawali 08, 62 atau +62."),
        ("0812-345", "Panjang nomor HP harus 10 sampai 13 digit"),
        ("nomor saya", "Nomor HP harus diawali 08, 62 atau +62."),
    ],
)
def test_activation_with_a_number_that_is_not_an_indonesian_mobile(client, typed, message):
    merchant = make_merchant(phone="081355556666")
    merchant.password_hash = None  # registered by staff, not activated yet
    code = activation.issue_code(merchant)
    db.session.commit()
    entries = _count(AuditEntry)
    url = "/auth/aktivasi/umkm"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "identifier": typed,
            "code": code,
            "password": "baru-12345",
            "confirm": "baru-12345",
        },
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page
    assert f'value="{typed}"' in page
    assert _count(AuditEntry) == entries
    merchant = db.session.get(User, merchant.id)
    assert merchant.password_hash is None and merchant.activation_code_hash is not None
    assert client.get("/umkm/").status_code == 302  # not signed in


@pytest.mark.parametrize(
    "url",
    [
        "/dinas/dasbor?kelurahan=²",
        "/dinas/lapak?kelurahan=²",
        "/dinas/tinjauan?kelurahan=²&opd=١&halaman=²&bulan=2026-0²",
    ],
)
def test_a_tampered_number_in_a_list_filter_is_ignored_not_a_500(client, url):
    _as_admin(client)
    assert client.get(url).status_code == 200
