"""'Unduh data saya': a worker makes the ZIP of one person's data; only its requester gets it."""

import csv
import io
import json
import time
import zipfile
from datetime import timedelta

from sqlalchemy import select

from promkm_qr import audit, outbox, retention
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, Document, Evidence, Job, PurchaseReport
from promkm_qr.models.base import utcnow
from promkm_qr.personal_data import services
from promkm_qr.storage import get_storage
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_merchant, make_report, make_staff, make_stall

NIP_A, NIP_B = "198609262015051001", "198609262015052002"


def _photo(owner_id: int, content: bytes) -> Evidence:
    key = f"photos/test/{owner_id}-{content.hex()}.jpg"
    digest = get_storage().put(key, content)
    evidence = Evidence(
        storage_key=key,
        thumb_key=key,
        sha256=digest,
        original_sha256=digest,
        phash="0" * 16,
        width=1,
        height=1,
        uploaded_by_id=owner_id,
    )
    db.session.add(evidence)
    db.session.commit()
    return evidence


def _people():
    """Two ASN with two reports each at one merchant's stall, photos and a receipt for A."""
    asn_a = make_asn(nip=NIP_A, name="Ani Lestari")
    asn_b = make_asn(nip=NIP_B, name="Budi Santoso")
    merchant = make_merchant(phone="081200000001", name="Bu Sugeng")
    stall = make_stall(owner=merchant, name="=Warung jahat", photo_key="photos/test/stall.jpg")
    get_storage().put("photos/test/stall.jpg", b"\xff\xd8 stall")
    for who, asn in (("a", asn_a), ("b", asn_b)):
        for n in range(2):
            make_report(asn, stall, 10_000 + n, evidence=_photo(asn.id, f"photo {who}{n}".encode()))
    make_report(asn_a, stall, 5_000, state="disputed", reason="Tidak kenal pembeli")
    get_storage().put("documents/test/a.pdf", b"%PDF-1.7 receipt of A")
    db.session.add(
        Document(
            public_id="DOCA",
            kind="asn_receipt",
            subject=str(asn_a.id),
            period="2026-10",
            state="done",
            storage_key="documents/test/a.pdf",
            checksum="0" * 64,
        )
    )
    db.session.commit()
    return asn_a, asn_b, merchant, stall


def _request(client) -> None:
    token = csrf_token(client, "/data-saya")
    assert client.post("/data-saya", data={"csrf_token": token}).status_code == 302


def _wait(job_id: str, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        if job.state in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("the export was not made in time")


def _latest(user_id: int) -> Job:
    db.session.rollback()
    return db.session.scalar(
        select(Job).where(Job.created_by_id == user_id).order_by(Job.created_at.desc())
    )


def _archive(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "no-store" in response.headers["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_a_worker_makes_each_asn_their_own_archive(app, worker):
    asn_a, asn_b, _merchant, _stall = _people()
    a, b = app.test_client(), app.test_client()
    login(a, "asn", NIP_A)
    login(b, "asn", NIP_B)
    assert b.get("/data-saya/unduh").status_code == 404  # nothing of B's yet

    _request(a)
    job_a = _wait(_latest(asn_a.id).id)
    assert job_a.state == "done", job_a.error
    assert b.get("/data-saya/unduh").status_code == 404  # A's file is not B's
    assert "Unduh berkas ZIP" in a.get("/data-saya").get_data(as_text=True)
    zip_a = _archive(a.get("/data-saya/unduh"))

    data = json.loads(zip_a.read("data.json"))
    own = set(
        db.session.scalars(select(Evidence.storage_key).where(Evidence.uploaded_by_id == asn_a.id))
    )
    refs_a = {r.reference for r in _reports_of(asn_a.id)}
    assert {r["referensi"] for r in data["laporan"]} == refs_a and len(refs_a) == 3
    assert data["akun"]["nip"] == NIP_A and data["akun"]["nama"] == "Ani Lestari"
    disputed = next(r for r in data["laporan"] if r["status"] == "disputed")
    assert [h["ke"] for h in disputed["riwayat"]] == ["submitted", "disputed"]
    assert disputed["riwayat"][1]["alasan"] == "Tidak kenal pembeli"
    photos = {n: zip_a.read(n) for n in zip_a.namelist() if n.startswith("foto/")}
    assert sorted(photos.values()) == sorted(get_storage().get(k) for k in own)
    assert zip_a.read("dokumen/asn_receipt-2026-10-DOCA.pdf") == b"%PDF-1.7 receipt of A"
    rows = list(csv.DictReader(io.StringIO(zip_a.read("laporan.csv").decode("utf-8-sig"))))
    assert {r["referensi"] for r in rows} == refs_a
    assert "Budi Santoso" not in zip_a.read("data.json").decode()
    assert "'=Warung jahat" in zip_a.read("laporan.csv").decode("utf-8-sig")  # formula guard

    _request(b)
    job_b = _wait(_latest(asn_b.id).id)
    zip_b = _archive(b.get("/data-saya/unduh"))
    data_b = json.loads(zip_b.read("data.json"))
    assert {r["referensi"] for r in data_b["laporan"]} == {
        r.reference for r in _reports_of(asn_b.id)
    }
    assert not refs_a & {r["referensi"] for r in data_b["laporan"]}
    assert job_b.result_key != job_a.result_key
    assert not any(n.startswith("dokumen/") and n.endswith(".pdf") for n in zip_b.namelist())

    # Staff (even an admin) cannot reach a person's own archive through the job pages.
    make_staff("admin", username="admin")
    staff = app.test_client()
    login(staff, "dinas", "admin")
    assert staff.get(f"/dinas/jobs/{job_a.id}/hasil").status_code == 404
    assert staff.get(f"/dinas/jobs/{job_a.id}").status_code == 404

    actions = db.session.execute(
        select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_id).where(
            AuditEntry.action.like("personal_data.export%")
        )
    ).all()
    assert ("personal_data.export_downloaded", str(asn_a.id), asn_a.id) in actions
    assert ("personal_data.export_requested", str(asn_b.id), asn_b.id) in actions
    assert audit.verify_chain() is None


def _reports_of(asn_id: int):
    return db.session.scalars(select(PurchaseReport).where(PurchaseReport.asn_id == asn_id))


def test_a_merchant_archive_holds_stalls_and_sales_without_the_buyers(app, client):
    _asn_a, _asn_b, merchant, stall = _people()
    job = services.start(merchant, merchant.id)
    services.make(job.id)  # the worker's part, run here (the worker is shown above)
    login(client, "merchant", "081200000001")
    archive = _archive(client.get("/data-saya/unduh"))
    data = json.loads(archive.read("data.json"))
    assert [s["kode"] for s in data["lapak"]] == [stall.code]
    assert len(data["laporan"]) == 5
    text = archive.read("data.json").decode()
    for buyer in ("Ani Lestari", "Budi Santoso", NIP_A, NIP_B):
        assert buyer not in text
    assert all("lat" not in r and "foto" not in r for r in data["laporan"])
    assert [n for n in archive.namelist() if n.startswith("foto/")] == [
        f"foto/lapak-{stall.code}.jpg"
    ]


def test_an_admin_makes_an_archive_on_request_with_the_reason_audited(app, client):
    asn_a, _asn_b, _merchant, stall = _people()
    admin = make_staff("admin", username="admin")
    make_staff("admin", username="admin2")
    make_staff("operator", username="op")
    login(client, "dinas", "admin")
    page = f"/dinas/asn/{asn_a.id}/akses"
    token = csrf_token(client, page)
    assert "Buat berkas data" in client.get(page).get_data(as_text=True)
    refused = client.post(f"/dinas/asn/{asn_a.id}/data", data={"csrf_token": token})
    assert refused.status_code == 302 and _latest(admin.id) is None  # no reason, no file
    response = client.post(
        f"/dinas/asn/{asn_a.id}/data",
        data={"csrf_token": token, "reason": "Surat 045/12/2026"},
    )
    job = _latest(admin.id)
    assert response.headers["Location"].endswith(f"/dinas/jobs/{job.id}")
    services.make(job.id)
    archive = _archive(client.get(f"/dinas/jobs/{job.id}/hasil"))
    assert json.loads(archive.read("data.json"))["akun"]["id"] == asn_a.id
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "personal_data.export_requested")
    )
    assert (entry.actor_id, entry.object_id) == (admin.id, str(asn_a.id))
    assert entry.data == {"job": job.id, "reason": "Surat 045/12/2026"}

    other, operator = app.test_client(), app.test_client()
    login(other, "dinas", "admin2")
    login(operator, "dinas", "op")
    assert other.get(f"/dinas/jobs/{job.id}/hasil").status_code == 404
    assert "Buat berkas data" not in operator.get(page).get_data(as_text=True)
    owner_url = f"/dinas/lapak/{stall.id}/data-pemilik"
    assert (
        operator.post(
            owner_url, data={"csrf_token": csrf_token(operator, page), "reason": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(owner_url, data={"csrf_token": token, "reason": "Surat 7"}).status_code == 302
    )
    assert _latest(admin.id).params == {"person_id": stall.owner_id, "reason": "Surat 7"}


def test_an_archive_expires_and_the_retention_purge_deletes_it(app, client):
    asn_a, *_rest = _people()
    job = services.start(asn_a, asn_a.id)
    services.make(job.id)
    login(client, "asn", NIP_A)
    assert client.get("/data-saya/unduh").status_code == 200
    key = db.session.get(Job, job.id).result_key
    now = utcnow() + timedelta(days=services.KEEP_DAYS, minutes=1)
    job.finished_at = utcnow() - timedelta(days=services.KEEP_DAYS, minutes=1)
    db.session.commit()
    assert client.get("/data-saya/unduh").status_code == 404  # expired, though still stored

    counts = retention.purge(now)
    assert counts["data_exports"] == 1
    assert not get_storage().exists(key)
    assert db.session.get(Job, job.id).result_key is None
    assert retention.purge(now)["data_exports"] == 0
    assert "tidak tersedia" in client.get("/data-saya").get_data(as_text=True)
    assert audit.verify_chain() is None


def test_staff_have_no_archive_page_and_a_second_request_waits(app, client, monkeypatch):
    asn_a, *_rest = _people()
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    assert client.get("/data-saya").status_code == 404
    assert client.get("/data-saya/unduh").status_code == 404
    # The task stays in the outbox: the session's worker (started by an earlier test) would
    # otherwise make the first archive before the second request is asked for.
    monkeypatch.setattr(outbox, "send_pending", lambda _messages: None)
    first = services.start(asn_a, asn_a.id)
    try:
        services.start(asn_a, asn_a.id)
    except services.ExportRefused:
        pass
    else:
        raise AssertionError("a second request started while the first was queued")
    # A request whose worker died is not waited for past an hour.
    first.created_at = utcnow() - services.STALE - timedelta(minutes=1)
    db.session.commit()
    assert services.start(asn_a, asn_a.id).id != first.id
