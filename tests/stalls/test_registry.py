"""The registry pages: search with keyset paging and scope, create, edit, suspend, approve."""

from sqlalchemy import insert, select

from promkm_qr.core.stall_code import make_stall_code
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, Kelurahan, Stall
from promkm_qr.models.base import utcnow
from promkm_qr.stalls import registry
from tests.conftest import csrf_token, login
from tests.factories import kelurahan, make_merchant, make_staff, make_stall


def _bulk_stalls(count: int, kel_code: str = "35.77.01.1001") -> None:
    kel = kelurahan(kel_code)
    now = utcnow()
    rows = [
        {
            "code": make_stall_code(kel.code, n),
            "kelurahan_id": kel.id,
            "serial": n,
            "name": f"Warung {n:05d}",
            "address": "",
            "status": "active",
            "poster_version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(1, count + 1)
    ]
    db.session.execute(insert(Stall), rows)
    db.session.commit()


def test_keyset_paging_walks_every_stall_once(app):
    _bulk_stalls(120)
    staff = make_staff("operator")
    seen, before = [], None
    while True:
        page, before = registry.search(registry.SearchFilters(), staff, before_id=before)
        seen += [s.id for s in page]
        if before is None:
            break
    assert len(seen) == len(set(seen)) == 120
    assert seen == sorted(seen, reverse=True)


def test_search_by_name_code_owner_and_status(client, operator):
    owner = make_merchant(name="Bu Sugeng Rahayu")
    a = make_stall(owner=owner, name="Pecel Madiun")
    b = make_stall(name="Toko Sembako", status="suspended")
    assert a.code in client.get("/dinas/lapak?q=pecel").get_data(as_text=True)
    html = client.get(f"/dinas/lapak?q={b.code}").get_data(as_text=True)
    assert b.code in html and a.code not in html
    assert a.code in client.get("/dinas/lapak?q=Sugeng").get_data(as_text=True)
    html = client.get("/dinas/lapak?status=suspended").get_data(as_text=True)
    assert b.code in html and a.code not in html


def test_scoped_staff_sees_only_their_kelurahan(client):
    kel = kelurahan("35.77.02.1001")
    make_staff("operator", username="kelurahan", scope_kelurahan_id=kel.id)
    inside = make_stall(name="Dalam", kel_code="35.77.02.1001")
    outside = make_stall(name="Luar")
    login(client, "dinas", "kelurahan")
    html = client.get("/dinas/lapak").get_data(as_text=True)
    assert inside.code in html and outside.code not in html
    assert client.get(f"/dinas/lapak/{outside.id}").status_code == 404


def test_viewer_cannot_change_stalls(client):
    make_staff("viewer", username="lihat")
    stall = make_stall()
    login(client, "dinas", "lihat")
    assert client.get("/dinas/lapak").status_code == 200
    assert client.get("/dinas/lapak/baru").status_code == 403
    assert client.post(
        f"/dinas/lapak/{stall.id}/status", data={"status": "suspended"}
    ).status_code in (400, 403)


def test_suspend_then_reactivate_is_audited(client, operator):
    stall = make_stall()
    url = f"/dinas/lapak/{stall.id}"
    client.post(
        url + "/status", data={"csrf_token": csrf_token(client, url), "status": "suspended"}
    )
    db.session.refresh(stall)
    assert stall.status == "suspended"
    client.post(url + "/status", data={"csrf_token": csrf_token(client, url), "status": "active"})
    db.session.refresh(stall)
    assert stall.status == "active"
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["stall.suspended", "stall.active"]


def test_edit_keeps_code_and_shows_masked_nik(client, operator):
    stall = make_stall(owner_nik="3577014107850002")
    url = f"/dinas/lapak/{stall.id}/ubah"
    data = {
        "csrf_token": csrf_token(client, url),
        "name": "Nama Baru",
        "category_id": "",
        "address": "Jl. Baru",
        "owner_nik": "3577014107850002",
        "phone": "",
        "nib": "",
        "lat": "-7.63",
        "lon": "111.52",
        "qris_payload": "",
    }
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(stall)
    assert (stall.name, stall.lat) == ("Nama Baru", -7.63)
    html = client.get(f"/dinas/lapak/{stall.id}").get_data(as_text=True)
    assert "3577**********02" in html and "3577014107850002" not in html
    bad = client.post(url, data={**data, "csrf_token": csrf_token(client, url), "owner_nik": "123"})
    assert bad.status_code == 400
    assert 'value="Nama Baru"' in bad.get_data(as_text=True)


def test_merchant_registers_a_stall_pending_until_approved(app, client):
    merchant = make_merchant(phone="081299990000")
    login(client, "merchant", "081299990000")
    kel = db.session.scalar(select(Kelurahan).where(Kelurahan.code == "35.77.03.1002"))
    url = "/umkm/lapak/daftar"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "name": "Kerajinan Bu Endang",
            "kelurahan_id": str(kel.id),
            "owner_nik": "3577015203900004",
            "address": "Jl. D",
        },
    )
    assert response.status_code == 302
    stall = db.session.scalar(select(Stall))
    assert (stall.status, stall.owner_id) == ("pending", merchant.id)
    assert stall.code.startswith("3577031002-")
    assert "Menunggu persetujuan" in client.get(url).get_data(as_text=True)

    staff = app.test_client()
    make_staff("operator", username="penyetuju")
    login(staff, "dinas", "penyetuju")
    page = f"/dinas/lapak/{stall.id}"
    staff.post(page + "/status", data={"csrf_token": csrf_token(staff, page), "status": "active"})
    db.session.refresh(stall)
    assert stall.status == "active"


def test_category_rename_and_add(client, operator):
    from promkm_qr.models import Category

    cat = db.session.scalar(select(Category).where(Category.slug == "jasa"))
    token = csrf_token(client, "/dinas/kategori")
    client.post(
        "/dinas/kategori", data={"csrf_token": token, "id": str(cat.id), "name": "Jasa & servis"}
    )
    client.post("/dinas/kategori", data={"csrf_token": token, "name": "Otomotif"})
    db.session.rollback()
    assert db.session.get(Category, cat.id).name == "Jasa & servis"
    assert db.session.scalar(select(Category.name).where(Category.slug == "otomotif")) == "Otomotif"
