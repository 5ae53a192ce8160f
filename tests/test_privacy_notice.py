"""The privacy page and the notices on pages that collect personal data."""

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry
from promkm_qr.reference import get_setting
from promkm_qr.stalls.links import link_token
from tests.conftest import login
from tests.dashboard.test_admin_pages import _settings_form
from tests.factories import make_asn, make_merchant, make_staff, make_stall


def test_privacy_page_is_public_with_the_default_text_and_periods(client):
    response = client.get("/privasi")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "tugas pelayanan publik" in html and "27 Tahun 2022" in html
    assert "24 bulan sesudah bulan laporan ditutup" in html and "90 hari" in html


def test_admin_edits_the_text_and_periods_shown_escaped_in_paragraphs(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = _settings_form(
        client,
        retention_address_days="30",
        retention_photo_months="36",
        privacy_notice="Paragraf <b>satu</b>.\r\n\r\nParagraf dua.",
    )
    assert client.post("/dinas/pengaturan", data=form).status_code == 302
    db.session.expire_all()
    assert get_setting("retention") == {
        "photo_months": 36,
        "position_months": 24,
        "address_days": 30,
        "message_days": 90,
    }
    assert db.session.query(AuditEntry).filter_by(object_id="retention").count() == 1
    html = client.get("/privasi").get_data(as_text=True)
    assert '<p class="privacy-text">Paragraf &lt;b&gt;satu&lt;/b&gt;.</p>' in html
    assert '<p class="privacy-text">Paragraf dua.</p>' in html
    assert "36 bulan" in html and "30 hari" in html


def test_periods_out_of_bounds_are_refused(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = _settings_form(client, retention_address_days="0", privacy_notice=" ")
    response = client.post("/dinas/pengaturan", data=form)
    assert response.status_code == 400
    assert get_setting("retention")["address_days"] == 90


def test_pages_that_collect_personal_data_say_so_and_link_the_privacy_page(client, app):
    for url in ("/auth/aktivasi", "/auth/aktivasi/umkm"):
        html = client.get(url).get_data(as_text=True)
        assert 'href="/privasi"' in html and "Yang melihat" in html
    stall = make_stall()
    make_asn(nip="199001012015011001")
    login(client, "asn", "199001012015011001")
    html = client.get(f"/asn/lapor/{link_token(stall.code, stall.poster_version)}").get_data(
        as_text=True
    )
    assert 'href="/privasi"' in html and "Foto disimpan 24 bulan" in html
    merchant = app.test_client()
    phone = make_merchant().phone
    login(merchant, "merchant", phone)
    html = merchant.get("/umkm/lapak/daftar").get_data(as_text=True)
    assert 'href="/privasi"' in html and "NIK" in html
