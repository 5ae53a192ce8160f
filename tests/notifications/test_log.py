"""Staff see the delivery log of their scope; without a WhatsApp account, a wa.me link."""

from datetime import timedelta
from urllib.parse import unquote

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import compose
from promkm_qr.notifications.log import wa_me_link
from tests.conftest import login
from tests.factories import (
    make_asn,
    make_merchant,
    make_notification,
    make_report,
    make_staff,
    make_stall,
)


def _world():
    """A merchant in Kartoharjo, one in Taman, both with a digest; an ASN's reminder."""
    asn = make_asn()
    north = make_merchant(phone="081211110001", name="Bu Utara")
    south = make_merchant(phone="081211110002", name="Pak Selatan")
    make_report(asn, make_stall(owner=north), 25_000, utcnow() - timedelta(days=1))
    make_report(
        asn, make_stall(owner=south, kel_code="35.77.03.1001"), 30_000, utcnow() - timedelta(days=1)
    )
    now = utcnow()
    compose.store(compose.merchant_digests(now), now)
    make_notification(asn, f"asn_shortfall:x:{asn.id}:inapp", body="Belanja kurang")
    db.session.commit()


def test_scoped_staff_see_their_area_and_city_staff_everything(client):
    _world()
    kartoharjo = db.session.scalar(select(Kecamatan).where(Kecamatan.code == "35.77.01"))
    make_staff("operator", username="scoped", scope_kecamatan_id=kartoharjo.id)
    login(client, "dinas", "scoped")
    html = client.get("/dinas/pemberitahuan").get_data(as_text=True)
    assert "Bu Utara" in html and "Pak Selatan" not in html and "Sri Rahayu" not in html
    assert "Terkirim" in html
    admin = client.application.test_client()
    make_staff("admin", username="kepala")
    login(admin, "dinas", "kepala")
    html = admin.get("/dinas/pemberitahuan").get_data(as_text=True)
    assert "Bu Utara" in html and "Pak Selatan" in html and "Sri Rahayu" in html


def test_without_a_whatsapp_account_a_wa_me_link_carries_the_text(client):
    _world()
    make_staff("admin", username="kepala")
    login(client, "dinas", "kepala")
    html = client.get("/dinas/pemberitahuan").get_data(as_text=True)
    assert "https://wa.me/6281211110001?text=1%20laporan%20pembelian" in html
    assert "Kirim lewat WhatsApp" in html


def test_wa_me_links_only_for_indonesian_mobiles():
    link = wa_me_link("0812-1111-0001", "Halo & sampai jumpa")
    assert link.startswith("https://wa.me/6281211110001?text=")
    assert unquote(link.split("text=")[1]) == "Halo & sampai jumpa"
    assert wa_me_link("021-555-1234", "x") is None  # a Jakarta landline
    assert wa_me_link("+1 202 555 0100", "x") is None
    assert wa_me_link(None, "x") is None
