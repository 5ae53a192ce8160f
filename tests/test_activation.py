"""Activation codes and access resets: merchants and ASN get in with a code staff hand over.

Each test drives the real pages; what they guard against on the code before: a merchant
registered by staff had no way in, unactivated accounts were told apart from unknown ones,
the roster's codes file could be downloaded again and again, and resets were not possible.
"""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from promkm_qr.accounts import activation
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import AuditEntry, Category, Job, Stall, User
from promkm_qr.models.base import utcnow
from promkm_qr.storage import get_storage
from tests.conftest import PASSWORD, csrf_token, login
from tests.factories import kelurahan, make_asn, make_merchant, make_staff

NIP = "198609262015051001"
UNKNOWN_NIP = "199001012015032002"
PHONE = "081355556666"
UNKNOWN_PHONE = "081399990000"
CODE_RE = re.compile(r"<code>([A-Z0-9-]+)</code>")


def _actions() -> list[str]:
    return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()


NEW_PASSWORD = "baru-12345"


def _activate(client, role: str, identifier: str, code: str, password: str = NEW_PASSWORD):
    url = "/auth/aktivasi/umkm" if role == "merchant" else "/auth/aktivasi"
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "identifier": identifier,
            "code": code,
            "password": password,
            "confirm": password,
        },
    )


def _reset(client, url: str) -> str:
    """Press the reset button on an access page; returns the code the page shows once."""
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    return CODE_RE.search(response.get_data(as_text=True)).group(1)


def test_merchant_registered_by_staff_gets_in_with_a_code_from_dinas(client, app):
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    category = db.session.scalar(select(Category).where(Category.slug == "kuliner"))
    response = client.post(
        "/dinas/lapak/baru",
        data={
            "csrf_token": csrf_token(client, "/dinas/lapak/baru"),
            "name": "Warung Sayur Bu Sugeng",
            "kelurahan_id": str(kelurahan().id),
            "category_id": str(category.id),
            "address": "Jl. Salak 3",
            "owner_nik": "3577014107850002",
            "phone": PHONE,
            "action": "save",
        },
    )
    assert response.status_code == 302
    stall = db.session.scalar(select(Stall))
    assert "belum diaktifkan" in client.get(f"/dinas/lapak/{stall.id}").get_data(as_text=True)

    merchant = app.test_client()
    refused = login(merchant, "merchant", PHONE, "apa-saja-123")
    assert refused.status_code == 401 and "/auth/aktivasi" not in refused.headers.get(
        "Location", ""
    )

    page = client.get(f"/dinas/lapak/{stall.id}/akses").get_data(as_text=True)
    assert "Nomor HP" in page and "0813*****666" in page and PHONE not in page
    code = _reset(client, f"/dinas/lapak/{stall.id}/akses")

    form = merchant.get("/auth/aktivasi/umkm").get_data(as_text=True)
    assert "Nomor HP" in form and "NIP" not in form
    typed = " ".join(code.replace("-", "").lower())  # spaces and lower case are forgiven
    done = _activate(merchant, "merchant", "+62 813-5555-6666", typed)
    assert done.status_code == 302 and done.headers["Location"] == "/umkm/"
    assert merchant.get("/umkm/").status_code == 200

    again = app.test_client()
    reused = _activate(again, "merchant", PHONE, code)
    assert reused.status_code == 401
    assert "Nomor HP atau kode aktivasi salah" in reused.get_data(as_text=True)
    assert login(again, "merchant", PHONE, "baru-12345").headers["Location"] == "/umkm/"
    assert {"account.access_reset", "account.activated"} <= set(_actions())


def _same_page(a, b, typed_a: str, typed_b: str) -> None:
    """Two answers are the same apart from the echoed identifier and the CSRF token."""

    def normal(response, typed):
        html = response.get_data(as_text=True).replace(typed, "IDENTIFIER")
        return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)

    assert a.status_code == b.status_code
    assert normal(a, typed_a) == normal(b, typed_b)


@pytest.mark.parametrize(
    ("role", "known", "unknown"), [("asn", NIP, UNKNOWN_NIP), ("merchant", PHONE, UNKNOWN_PHONE)]
)
def test_unactivated_account_is_answered_like_an_unknown_one(app, role, known, unknown):
    user = make_asn(nip=NIP, password=None) if role == "asn" else make_merchant(phone=PHONE)
    user.password_hash = None
    activation.issue_code(user)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    signed = login(first, role, known, "tebak-tebak-1"), login(second, role, unknown, "tebak-1")
    assert signed[0].status_code == 401
    _same_page(*signed, known, unknown)
    activated = (
        _activate(first, role, known, "AAAA-BBBB-CC"),
        _activate(second, role, unknown, "AAAA-BBBB-CC"),
    )
    assert activated[0].status_code == 401
    _same_page(*activated, known, unknown)


def test_inactive_account_is_answered_like_an_unknown_one_until_the_password_is_right(app):
    user = make_asn(nip=NIP)
    user.active = False
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    _same_page(
        login(first, "asn", NIP, "tebak-tebak-1"),
        login(second, "asn", UNKNOWN_NIP, "tebak-tebak-1"),
        NIP,
        UNKNOWN_NIP,
    )
    assert login(first, "asn", NIP, PASSWORD).status_code == 403


def test_roster_codes_download_once_and_only_hashes_stay(client, app):
    operator = make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    token = csrf_token(client, "/dinas/asn")
    body = f"NIP;Nama;OPD;Kelas Jabatan\n{NIP};Sri Baru;Dinas Kesehatan;Pelaksana\n".encode()
    response = client.post(
        "/dinas/asn",
        data={"csrf_token": token, "berkas": (io.BytesIO(body), "roster.csv")},
        content_type="multipart/form-data",
    )
    job = db.session.scalar(select(Job).where(Job.kind == "roster_import"))
    assert response.headers["Location"] == f"/dinas/jobs/{job.id}"
    key = job.result_key
    first = client.get(f"/dinas/jobs/{job.id}/hasil", buffered=True)
    assert first.status_code == 200 and "no-store" in first.headers["Cache-Control"]
    code = first.get_data(as_text=True).strip().splitlines()[-1].split(",")[-1]
    assert NIP in first.get_data(as_text=True) and len(code) == 12

    second = client.get(f"/dinas/jobs/{job.id}/hasil")
    assert second.status_code == 302
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "sudah diunduh oleh " + operator.name in page
    assert not get_storage().exists(key)
    db.session.expire_all()
    stored = " ".join(
        str(row)
        for table in ("users", "jobs", "audit_entries")
        for row in db.session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
    )
    assert code not in stored and code.replace("-", "") not in stored

    asn = app.test_client()
    assert _activate(asn, "asn", NIP, code).headers["Location"] == "/asn/"
    assert _activate(app.test_client(), "asn", NIP, code).status_code == 401  # used: gone
    assert "roster.codes_downloaded" in _actions()


def test_expired_codes_are_refused_and_removed_with_unclaimed_files(client, app):
    user = make_asn(nip=NIP, password=None)
    code = activation.issue_code(user)
    user.activation_expires_at = utcnow() - timedelta(minutes=1)
    operator = make_staff("operator", username="operator")
    job = create_job("roster_import", created_by_id=operator.id)
    job.result_key = "roster/lama.csv"
    get_storage().put(job.result_key, b"NIP,Nama,OPD,Kode aktivasi\n")
    finish_job(job)
    job.finished_at = utcnow() - timedelta(days=activation.valid_days() + 1)
    db.session.commit()

    assert _activate(client, "asn", NIP, code).status_code == 401
    db.session.expire_all()
    assert db.session.get(User, user.id).activation_code_hash is None  # gone, not just refused

    activation.sweep_expired()
    assert not get_storage().exists("roster/lama.csv")
    login(client, "dinas", "operator")
    assert client.get(f"/dinas/jobs/{job.id}/hasil").status_code == 302
    assert "tanpa diunduh" in client.get(f"/dinas/jobs/{job.id}").get_data(as_text=True)


def test_staff_reset_of_an_asn_ends_sessions_and_the_old_password(client, app):
    user = make_asn(nip=NIP)
    asn = app.test_client()
    login(asn, "asn", NIP)
    assert asn.get("/asn/").status_code == 200
    admin = make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    assert f"/dinas/asn/{user.id}/akses" in client.get("/dinas/asn").get_data(as_text=True)
    page = client.get(f"/dinas/asn/{user.id}/akses").get_data(as_text=True)
    assert "Sudah diaktifkan" in page and NIP in page
    code = _reset(client, f"/dinas/asn/{user.id}/akses")

    assert asn.get("/asn/").status_code == 302  # the session has ended
    assert login(app.test_client(), "asn", NIP, PASSWORD).status_code == 401
    assert _activate(asn, "asn", NIP, code, "lagi-12345").headers["Location"] == "/asn/"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.access_reset"))
    assert entry.actor_id == admin.id and entry.object_id == str(user.id)
    assert entry.data["role"] == "asn"


def test_password_resets_and_changes_are_audited_as_such(client, app):
    make_staff("admin", username="admin")
    other = make_staff("viewer", username="pengamat")
    login(client, "dinas", "admin")
    url = f"/dinas/staf/{other.id}"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "username": "pengamat",
            "name": other.name,
            "staff_role": "viewer",
            "scope": "",
            "password": "sandi-baru-1",
            "active": "y",
        },
    )
    assert response.status_code == 302
    reset = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.password_reset"))
    assert reset.object_id == str(other.id) and "username" not in reset.data

    merchant = app.test_client()
    make_merchant(phone=PHONE)
    login(merchant, "merchant", PHONE)
    merchant.post(
        "/auth/sandi",
        data={
            "csrf_token": csrf_token(merchant, "/auth/sandi"),
            "current": PASSWORD,
            "password": "punyaku-123",
            "confirm": "punyaku-123",
        },
    )
    assert _actions()[-1] == "account.password_changed"


@pytest.mark.parametrize(
    ("role", "identifier", "home", "menu"),
    [
        ("asn", NIP, "/asn/", "/asn/riwayat"),
        ("merchant", PHONE, "/umkm/", "/umkm/lapak/daftar"),
        ("dinas", "pengamat", "/dinas/dasbor", "/dinas/lapak"),
    ],
)
def test_change_password_is_on_every_akun_page_and_keeps_the_menu(
    client, role, identifier, home, menu
):
    {"asn": lambda: make_asn(nip=NIP), "merchant": lambda: make_merchant(phone=PHONE)}.get(
        role, lambda: make_staff("viewer", username="pengamat")
    )()
    login(client, role, identifier)
    assert 'href="/auth/akun"' in client.get(home).get_data(as_text=True)
    assert 'href="/auth/sandi"' in client.get("/auth/akun").get_data(as_text=True)
    page = client.get("/auth/sandi").get_data(as_text=True)
    assert f'href="{menu}"' in page and 'href="/auth/akun" aria-current="page"' in page


@pytest.mark.browser
def test_merchant_activates_on_a_phone_from_the_sign_in_page(live_server, phone):
    merchant = make_merchant(phone=PHONE)
    merchant.password_hash = None
    code = activation.issue_code(merchant)
    db.session.commit()
    phone.goto(f"{live_server}/auth/masuk")
    phone.click("text=Aktivasi akun pelaku UMKM (nomor HP)")
    phone.wait_for_url("**/auth/aktivasi/umkm")
    assert phone.get_attribute("input[name=identifier]", "inputmode") == "tel"
    phone.fill("input[name=identifier]", "0813-5555-6666")
    phone.fill("input[name=code]", code)
    phone.fill("input[name=password]", NEW_PASSWORD)
    phone.fill("input[name=confirm]", NEW_PASSWORD)
    phone.click("button:has-text('Simpan dan masuk')")
    phone.wait_for_url("**/umkm/")
    phone.click("nav >> text=Akun")
    phone.click(".account-list >> text=Kata sandi")
    phone.wait_for_url("**/auth/sandi")
    assert "Penjualan" in phone.inner_text("nav")  # still the merchant's menu
