"""Numbers that are not Indonesian mobiles are refused where they are typed.

08001234567 passes the older shape check (08..., 11 digits) but is a toll-free number,
which WhatsApp can never reach."""

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Stall, User
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_merchant, make_staff
from tests.test_activation import _activate

TOLL_FREE = "08001234567"
REFUSED = "Hanya nomor HP Indonesia (08... atau +62 8...) yang dapat dipakai."


def test_the_staff_stall_form_refuses_a_number_that_is_not_a_mobile(client):
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    url = "/dinas/lapak/baru"
    data = {"csrf_token": csrf_token(client, url), "name": "Warung Tol", "phone": TOLL_FREE}
    response = client.post(url, data=data)
    assert response.status_code == 400 and REFUSED in response.get_data(as_text=True)
    assert db.session.scalar(select(Stall.id)) is None


def test_a_merchant_whose_number_is_not_a_mobile_cannot_register_a_stall(client):
    make_merchant(phone=TOLL_FREE)
    login(client, "merchant", TOLL_FREE)  # signing in keeps working for such old accounts
    url = "/umkm/lapak/daftar"
    data = {"csrf_token": csrf_token(client, url), "name": "Warung", "address": "Jl. D"}
    response = client.post(url, data=data)
    assert response.status_code == 400 and REFUSED in response.get_data(as_text=True)


def test_activation_by_phone_refuses_a_number_that_is_not_a_mobile(client):
    response = _activate(client, "merchant", TOLL_FREE, "ABCD-EFGH")
    assert REFUSED in response.get_data(as_text=True)


def test_the_preferences_page_takes_a_mobile_and_refuses_the_rest(client):
    asn = make_asn(nip="199001012015011001")
    make_merchant(phone="081355556666")
    login(client, "asn", "199001012015011001")
    url = "/pemberitahuan/pengaturan"
    token = csrf_token(client, url)
    for typed, message in (
        (TOLL_FREE, REFUSED),
        ("0351 462 000", "Nomor HP tidak valid: gunakan nomor seluler"),  # a landline
        ("0813-5555-6666", "Nomor HP ini sudah dipakai akun lain."),
    ):
        refused = client.post(url, data={"csrf_token": token, "phone": typed})
        assert refused.status_code == 400, typed
        assert message in refused.get_data(as_text=True), typed
    assert db.session.get(User, asn.id).phone is None
    saved = client.post(url, data={"csrf_token": token, "phone": "+62 812-3456-7890"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, asn.id).phone == "081234567890"


def test_a_merchant_sees_their_number_but_changes_it_through_dinas(client):
    merchant = make_merchant(phone="081299990000")
    login(client, "merchant", "081299990000")
    url = "/pemberitahuan/pengaturan"
    page = client.get(url).get_data(as_text=True)
    assert 'value="081299990000" readonly' in page
    client.post(url, data={"csrf_token": csrf_token(client, url), "phone": "081299990001"})
    db.session.expire_all()
    assert db.session.get(User, merchant.id).phone == "081299990000"
