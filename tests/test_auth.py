"""The gate: sign-in for each role and the bad input it must refuse clearly."""

import pytest

from promkm_qr.models import User
from tests.conftest import PASSWORD, csrf_token, login
from tests.factories import make_asn, make_merchant, make_staff

NIP = "198609262015051001"


def test_asn_signs_in_with_nip_with_spaces(client):
    make_asn(nip=NIP)
    response = login(client, "asn", "19860926 201505 1 001")
    assert response.status_code == 302
    assert response.headers["Location"] == "/asn/"


def test_merchant_signs_in_with_phone_in_any_shape(client):
    make_merchant(phone="081234567890")
    assert login(client, "merchant", "+62 812-3456-7890").headers["Location"] == "/umkm/"


def test_staff_signs_in_with_username(client):
    make_staff(username="operator1")
    assert login(client, "dinas", "Operator1").headers["Location"] == "/dinas/"


@pytest.mark.parametrize(
    ("nip", "message"),
    [
        ("19860926201505100", "18 digit"),
        ("19861326201505 1 001", "tanggal lahir"),
        ("198609262015053001", "jenis kelamin"),
    ],
)
def test_malformed_nip_is_refused_with_a_clear_message(client, nip, message):
    response = login(client, "asn", nip)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).lower()
    assert nip in response.get_data(as_text=True)  # the form keeps what was typed


def test_wrong_password_is_401_and_does_not_reveal_the_account(client):
    make_asn(nip=NIP)
    wrong = login(client, "asn", NIP, "salah-salah")
    unknown = login(client, "asn", "198609262015051002", "salah-salah")
    assert wrong.status_code == unknown.status_code == 401
    assert "kata sandi salah" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("salah") == unknown.get_data(as_text=True).count(
        "salah"
    )


def test_missing_csrf_token_is_refused(client):
    make_asn(nip=NIP)
    client.get("/auth/masuk")
    response = client.post(
        "/auth/masuk", data={"role": "asn", "identifier": NIP, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/asn/").status_code == 302  # still signed out


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/phish", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_open_redirect_next_is_ignored(client, target):
    make_asn(nip=NIP)
    response = login(client, "asn", NIP, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/asn/"


def test_local_next_is_followed(client):
    make_asn(nip=NIP)
    assert login(client, "asn", NIP, next_url="/asn/?x=1").headers["Location"] == "/asn/?x=1"


def test_merchant_opening_a_dinas_page_gets_403(client):
    make_merchant(phone="081234567890")
    login(client, "merchant", "081234567890")
    response = client.get("/dinas/")
    assert response.status_code == 403
    assert "Akses ditolak" in response.get_data(as_text=True)


def test_anonymous_is_sent_to_sign_in_and_back(client):
    response = client.get("/asn/")
    assert response.status_code == 302
    assert "/auth/masuk?next=" in response.headers["Location"]


def test_login_is_rate_limited_per_account(client, app):
    make_asn(nip=NIP)
    statuses = [login(client, "asn", NIP, "salah-salah").status_code for _ in range(10)]
    assert statuses[0] == 401
    assert statuses[-1] == 429


def test_account_limit_holds_however_the_nip_is_written(client):
    make_asn(nip=NIP)
    spellings = [NIP, "19860926 201505 1 001", "NIP. 198609262015051001", "19860926-201505-1-001"]
    statuses = [
        login(client, "asn", spellings[i % 4], "salah-salah").status_code for i in range(10)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429


def test_password_change_ends_other_sessions(app, client):
    make_asn(nip=NIP)
    other = app.test_client()
    login(client, "asn", NIP)
    login(other, "asn", NIP)
    token = csrf_token(client, "/auth/sandi")
    response = client.post(
        "/auth/sandi",
        data={
            "csrf_token": token,
            "current": PASSWORD,
            "password": "baru-12345",
            "confirm": "baru-12345",
        },
    )
    assert response.status_code == 302
    assert client.get("/asn/").status_code == 200
    assert other.get("/asn/").status_code == 302  # the other session has ended


def test_session_cookie_flags(client):
    make_asn(nip=NIP)
    response = login(client, "asn", NIP)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_imported_asn_activates_with_code(client):
    from promkm_qr.accounts.activation import issue_code
    from promkm_qr.extensions import db

    user = make_asn(nip=NIP, password=None)
    code = issue_code(user)
    db.session.commit()
    first = login(client, "asn", NIP, "anything")
    assert first.status_code == 401  # told nothing until a valid code is shown
    token = csrf_token(client, "/auth/aktivasi")
    bad = client.post(
        "/auth/aktivasi",
        data={
            "csrf_token": token,
            "identifier": NIP,
            "code": "WRONG",
            "password": "baru-12345",
            "confirm": "baru-12345",
        },
    )
    assert bad.status_code == 401
    ok = client.post(
        "/auth/aktivasi",
        data={
            "csrf_token": token,
            "identifier": NIP,
            "code": code.lower(),
            "password": "baru-12345",
            "confirm": "baru-12345",
        },
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).activation_code_hash is None
