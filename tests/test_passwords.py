"""Password rules, through every place a password is set: a change, an activation, a staff
account made or reset, and `create-user`. Before, any 8 characters passed (staff and the
command line took even fewer), the NIP and "password1" among them.
"""

import pytest
from sqlalchemy import select

from promkm_qr.accounts.activation import issue_code
from promkm_qr.extensions import db
from promkm_qr.models import User
from tests.conftest import PASSWORD, csrf_token, login
from tests.factories import make_asn, make_merchant, make_staff

NIP = "198609262015051001"
PHONE = "081355556666"


def _change(client, password: str, lang: str = ""):
    url = "/auth/sandi" + lang
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "current": PASSWORD,
            "password": password,
            "confirm": password,
        },
    )


@pytest.mark.parametrize(
    "password, why",
    [
        ("ab-12", "Kata sandi minimal 8 karakter."),
        ("Password1", "Kata sandi ini termasuk yang paling sering dipakai"),
        ("bismillah", "Kata sandi ini termasuk yang paling sering dipakai"),
        (NIP, "Kata sandi tidak boleh sama dengan NIP."),
        ("19860926 201505 1 001", "Kata sandi tidak boleh sama dengan NIP."),
    ],
)
def test_asn_password_change_refuses_weak_passwords_saying_why(client, password, why):
    user = make_asn(nip=NIP)
    before = user.password_hash
    login(client, "asn", NIP)
    response = _change(client, password)
    assert response.status_code == 400
    assert why in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before


def test_merchant_may_not_use_the_phone_number_however_written(client):
    make_merchant(phone=PHONE)
    login(client, "merchant", PHONE)
    response = _change(client, "+62 813-5555-6666")
    assert response.status_code == 400
    assert "Kata sandi tidak boleh sama dengan nomor HP." in response.get_data(as_text=True)


def test_the_reason_is_shown_in_english_too(client):
    make_asn(nip=NIP)
    login(client, "asn", NIP)
    response = _change(client, "iloveyou", "?lang=en")
    assert "This password is among the most commonly used ones" in response.get_data(as_text=True)


def test_a_good_password_is_still_taken(client):
    make_asn(nip=NIP)
    login(client, "asn", NIP)
    assert _change(client, "sandi-baru-1").status_code == 302


def test_activation_refuses_the_nip_and_the_code_still_works(client):
    user = make_asn(nip=NIP, password=None)
    code = issue_code(user)
    db.session.commit()

    def activate(password):
        return client.post(
            "/auth/aktivasi",
            data={
                "csrf_token": csrf_token(client, "/auth/aktivasi"),
                "identifier": NIP,
                "code": code,
                "password": password,
                "confirm": password,
            },
        )

    refused = activate(NIP)
    assert refused.status_code == 400
    assert "Kata sandi tidak boleh sama dengan NIP." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None
    assert activate("sandi-baru-1").status_code == 302


def test_staff_account_refuses_its_username_and_a_common_password_on_reset(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = {
        "csrf_token": csrf_token(client, "/dinas/staf"),
        "username": "Operator7",
        "name": "Operator Tujuh",
        "staff_role": "operator",
        "scope": "",
        "password": "operator7",
    }
    made = client.post("/dinas/staf", data=form)
    assert made.status_code == 400
    assert "Kata sandi tidak boleh sama dengan nama pengguna." in made.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "operator7")) is None

    assert client.post("/dinas/staf", data={**form, "password": PASSWORD}).status_code == 302
    person = db.session.scalar(select(User).where(User.username == "operator7"))
    before = person.password_hash
    url = f"/dinas/staf/{person.id}"
    reset = client.post(
        url, data={**form, "csrf_token": csrf_token(client, url), "password": "qwertyuiop"}
    )
    assert reset.status_code == 400
    assert "paling sering dipakai" in reset.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).password_hash == before


def test_create_user_command_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--role",
            "dinas",
            "--name",
            "Admin",
            "--login",
            "admin2",
            "--password",
            "admin",
        ]
    )
    assert result.exit_code != 0 and "Kata sandi minimal 8 karakter." in result.output
    assert db.session.scalar(select(User).where(User.username == "admin2")) is None
