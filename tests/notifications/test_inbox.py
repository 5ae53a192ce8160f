"""The in-app channel: the list with unread counts on each role's pages, marking read, the
preferences page, and reminder links that open the right page after sign-in."""

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, Notification, User
from promkm_qr.models.base import utcnow
from promkm_qr.notifications import compose
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_merchant, make_report, make_stall


def _digest_for(merchant: User) -> Notification:
    make_report(make_asn(), make_stall(owner=merchant), 25_000, utcnow() - timedelta(days=1))
    now = utcnow()
    compose.store(compose.merchant_digests(now), now)
    return db.session.scalar(select(Notification).where(Notification.user_id == merchant.id))


def test_the_merchant_sees_the_unread_count_and_marks_the_list_read(client):
    merchant = make_merchant(phone="081299990001")
    note = _digest_for(merchant)
    login(client, "merchant", "081299990001")
    home = client.get("/umkm/").get_data(as_text=True)
    assert "1 pemberitahuan belum dibaca" in home and "Pemberitahuan (1)" in home
    page = client.get("/pemberitahuan/").get_data(as_text=True)
    assert "Laporan menunggu konfirmasi" in page and "1 laporan pembelian menunggu" in page
    assert f'href="{note.link}"' in page
    token = csrf_token(client, "/pemberitahuan/")
    assert client.post("/pemberitahuan/baca", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    home = client.get("/umkm/").get_data(as_text=True)
    assert "belum dibaca" not in home and "Pemberitahuan (1)" not in home


def test_one_persons_reminders_are_not_shown_to_another(client):
    _digest_for(make_merchant(phone="081299990001"))
    make_merchant(phone="081299990002")
    login(client, "merchant", "081299990002")
    assert "Belum ada pemberitahuan." in client.get("/pemberitahuan/").get_data(as_text=True)


def test_marking_read_needs_the_csrf_token(client):
    merchant = make_merchant(phone="081299990001")
    note = _digest_for(merchant)
    login(client, "merchant", "081299990001")
    assert client.post("/pemberitahuan/baca").status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is None


def test_the_preferences_page_stops_a_kind_and_a_channel(client):
    asn = make_asn(nip="199001012015011001")
    login(client, "asn", "199001012015011001")
    page = client.get("/pemberitahuan/pengaturan").get_data(as_text=True)
    assert 'value="asn_shortfall" checked' in page
    token = csrf_token(client, "/pemberitahuan/pengaturan")
    response = client.post(
        "/pemberitahuan/pengaturan",
        data={
            "csrf_token": token,
            "kind": ["merchant_digest"],
            "channel": ["email"],
            "email": "sri@example.id",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(User, asn.id)
    assert saved.notification_prefs == {
        "kinds_off": ["asn_report_decided", "asn_shortfall"],
        "channels_off": ["whatsapp"],
    }
    assert saved.email == "sri@example.id"
    refused = client.post(
        "/pemberitahuan/pengaturan",
        data={"csrf_token": token, "email": "sri at example"},
    )
    assert refused.status_code == 400 and "Alamat e-mail tidak valid." in refused.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(User, asn.id).email == "sri@example.id"
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "notifications.preferences")
    )


def test_a_refused_form_shows_the_boxes_as_the_person_ticked_them(client):
    asn = make_asn(nip="199001012015011001")
    asn.notification_prefs = {"kinds_off": ["asn_shortfall"], "channels_off": ["email"]}
    db.session.commit()
    login(client, "asn", "199001012015011001")
    url = "/pemberitahuan/pengaturan"
    # The saved choices turned round, with an address and a number that are refused.
    typed = {"kind": ["asn_shortfall"], "channel": ["email"], "email": "sri at example"}
    for bad in ({"phone": "0800 1234 567"}, {"email": "sri@example.id", "phone": "0351 462000"}):
        data = {"csrf_token": csrf_token(client, url), **typed, **bad}
        refused = client.post(url, data=data)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400 and 'role="alert"' in html
        assert 'value="asn_shortfall" checked' in html
        assert 'value="asn_report_decided">' in html  # unticked, though saved on
        assert 'value="email" checked' in html and 'value="whatsapp">' in html
        assert f'value="{data["email"]}"' in html and f'value="{data["phone"]}"' in html
    db.session.expire_all()
    assert db.session.get(User, asn.id).notification_prefs == {
        "kinds_off": ["asn_shortfall"],
        "channels_off": ["email"],
    }


def test_a_reminder_link_opens_its_page_after_sign_in(client):
    merchant = make_merchant(phone="081299990001")
    path = urlsplit(_digest_for(merchant).link).path
    response = client.get(path)
    assert response.status_code == 302 and "/auth/masuk" in response.headers["Location"]
    signed_in = login(client, "merchant", "081299990001", next_url=path)
    assert signed_in.headers["Location"] == path
    assert "Penjualan" in client.get(path).get_data(as_text=True)
