"""The photo after submission: re-encoded in the worker, stored, shown only to those allowed."""

import io
import time
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Evidence, OutboxMessage, PhotoUpload, PurchaseReport, ReportFlag
from promkm_qr.reports.submit import RULES_TASK
from promkm_qr.storage import get_storage
from promkm_qr.tasks.evidence import process_upload
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.conftest import BACKEND, login
from tests.factories import kelurahan, make_asn, make_merchant, make_staff


def fetch(client, url: str):
    """GET a file response, read it and close it (send_file holds the file open)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def submitted_report(client, form_url, photo: bytes) -> PurchaseReport:
    """Submit the form with a photo and return the new report."""
    response = post(client, form_url, report_data(open_form(client, form_url), photo))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.rollback()
    return db.session.scalar(select(PurchaseReport).order_by(PurchaseReport.id.desc()))


def processed(report_id: int) -> str:
    """Run the evidence task for the report, as the worker would.

    A worker started earlier in the session may have claimed the upload first (the call then
    finds nothing to do, on PostgreSQL while the worker still holds it): wait for its commit.
    """
    outcome = process_upload(report_id)
    deadline = time.monotonic() + 30
    state = select(PhotoUpload.state).where(PhotoUpload.report_id == report_id)
    while True:
        db.session.rollback()
        if db.session.scalar(state) != "pending" or time.monotonic() > deadline:
            return outcome
        time.sleep(0.05)


def test_the_photo_is_re_encoded_without_metadata_and_facts_are_kept(signed_in, form_url):
    report = submitted_report(signed_in, form_url, jpeg_bytes(4000, 3000, exif=True))
    upload_key = db.session.scalar(select(PhotoUpload.upload_key))

    # A worker running in this session may get there first; the outcome is the same.
    assert processed(report.id) in ("done", "nothing to do")
    evidence = db.session.get(Evidence, db.session.get(PurchaseReport, report.id).evidence_id)
    assert (evidence.width, evidence.height) == (1600, 1200)  # a 12 MP photo sent as is
    assert evidence.taken_at == datetime(2026, 11, 28, 2, 15)  # 09:15 WIB in UTC
    assert (round(evidence.gps_lat, 3), round(evidence.gps_lon, 3)) == (-7.63, 111.52)
    storage = get_storage()
    stored = Image.open(io.BytesIO(storage.get(evidence.storage_key)))
    assert stored.format == "JPEG" and not stored.getexif()
    assert max(Image.open(io.BytesIO(storage.get(evidence.thumb_key))).size) <= 320
    assert not storage.exists(upload_key)
    # Delivered twice: nothing new is made.
    assert process_upload(report.id) == "nothing to do"
    assert len(db.session.scalars(select(Evidence)).all()) == 1
    assert db.session.scalar(select(PhotoUpload.state)) == "done"

    html = signed_in.get(f"/asn/laporan/{report.id}").get_data(as_text=True)
    assert f"/asn/foto/{report.id}/kecil" in html
    photo = fetch(signed_in, f"/asn/foto/{report.id}")
    assert photo.mimetype == "image/jpeg"
    assert photo.data == storage.get(evidence.storage_key)
    assert "private" in photo.headers["Cache-Control"]


def test_the_rules_run_on_the_new_evidence_in_the_same_task(signed_in, form_url):
    photo = jpeg_bytes(800, 600)
    first = submitted_report(signed_in, form_url, photo)
    processed(first.id)
    second = submitted_report(signed_in, form_url, photo)
    processed(second.id)
    db.session.rollback()
    flags = select(ReportFlag.rule).where(ReportFlag.report_id == second.id)
    assert "photo" in set(db.session.scalars(flags))  # the first report's photo, by its hashes
    rules_messages = select(OutboxMessage).where(OutboxMessage.task == RULES_TASK)
    assert not db.session.scalars(rules_messages).all()


def test_evidence_is_shown_only_to_the_asn_the_merchant_and_staff_in_scope(
    app, signed_in, form_url, stall
):
    report = submitted_report(signed_in, form_url, jpeg_bytes(800, 600))
    processed(report.id)
    other_kecamatan = kelurahan("35.77.02.1001").kecamatan_id
    viewers = {
        ("asn", make_asn().nip): 404,
        ("merchant", stall.owner.phone): 200,
        ("merchant", make_merchant().phone): 404,
        ("dinas", make_staff("viewer").username): 200,
        ("dinas", make_staff("reviewer", scope_kelurahan_id=stall.kelurahan_id).username): 200,
        ("dinas", make_staff("admin", scope_kecamatan_id=other_kecamatan).username): 404,
    }
    for (role, identifier), status in viewers.items():
        client = app.test_client()
        assert login(client, role, identifier).status_code == 302
        for suffix in ("", "/kecil"):
            response = fetch(client, f"/asn/foto/{report.id}{suffix}")
            assert response.status_code == status, (role, identifier, suffix)
    anonymous = app.test_client().get(f"/asn/foto/{report.id}")
    assert "/auth/masuk" in anonymous.headers["Location"]


@pytest.mark.worker
def test_the_worker_processes_a_submitted_photo(worker, signed_in, form_url):
    report = submitted_report(signed_in, form_url, jpeg_bytes(1600, 1200))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.rollback()
        if db.session.scalar(select(PhotoUpload.state)) != "pending":
            break
        time.sleep(0.2)
    assert db.session.scalar(select(PhotoUpload.state)) == "done"
    assert db.session.get(PurchaseReport, report.id).evidence_id is not None
    assert fetch(signed_in, f"/asn/foto/{report.id}/kecil").status_code == 200


def _waiting_reports(asn, stall, photos: list[bytes]) -> list[int]:
    """Reports with uploads waiting, flushed but not committed: no other worker sees them."""
    storage = get_storage()
    ids = []
    for n, photo in enumerate(photos):
        report = PurchaseReport(
            reference=f"LPBATCH{n}",
            idempotency_key=f"batch-{n}",
            asn_id=asn.id,
            stall_id=stall.id,
            amount=25_000,
            goods_category="makanan",
            description="Pecel",
            purchased_at=datetime(2026, 11, 27, 3, 0),
            state="submitted",
        )
        db.session.add(report)
        db.session.flush()
        storage.put(f"uploads/batch-{n}", photo)
        db.session.add(
            PhotoUpload(report_id=report.id, upload_key=f"uploads/batch-{n}", size=len(photo))
        )
        ids.append(report.id)
    db.session.flush()
    return ids


@pytest.mark.skipif(BACKEND != "postgres", reason="batches are claimed with SKIP LOCKED")
def test_one_message_makes_the_evidence_of_every_upload_waiting(asn, stall):
    photo = jpeg_bytes(800, 600)
    first, second, third = _waiting_reports(asn, stall, [photo, photo, jpeg_bytes(640, 480)])
    # The message of the second report takes its own upload and the others waiting. Run in
    # this session (not in an app context of its own) so it sees the uncommitted uploads.
    assert process_upload.run(second) == "done"
    db.session.rollback()
    assert set(db.session.scalars(select(PhotoUpload.state))) == {"done"}
    reports = db.session.scalars(select(PurchaseReport).order_by(PurchaseReport.id)).all()
    assert all(report.evidence_id for report in reports)
    assert len({report.evidence_id for report in reports}) == 3
    # The rules ran on the whole batch: the same photo in two reports of it is caught.
    flagged = set(
        db.session.scalars(select(ReportFlag.report_id).where(ReportFlag.rule == "photo"))
    )
    assert flagged & {first, second}
    assert third not in flagged
    # The messages of the others find their uploads done.
    assert process_upload(first) == "nothing to do"
    assert process_upload(third) == "nothing to do"


@pytest.mark.skipif(BACKEND != "postgres", reason="batches are claimed with SKIP LOCKED")
def test_an_upload_that_breaks_the_decoder_fails_alone(asn, stall, monkeypatch):
    from promkm_qr.tasks import evidence

    poison, good = jpeg_bytes(640, 480), jpeg_bytes(800, 600)
    real = evidence.process_photo

    def decoder_fault(data):
        if data == poison:
            raise RuntimeError("decoder fault")
        return real(data)

    monkeypatch.setattr(evidence, "process_photo", decoder_fault)
    first, second = _waiting_reports(asn, stall, [poison, good])
    # Left pending, the broken upload would be claimed first by every later batch.
    assert process_upload.run(second) == "done"
    db.session.rollback()
    uploads = db.session.execute(
        select(PhotoUpload.report_id, PhotoUpload.state, PhotoUpload.error)
    )
    outcome = {report_id: (state, error) for report_id, state, error in uploads}
    assert outcome == {first: ("failed", "RuntimeError: decoder fault"), second: ("done", None)}
    assert db.session.get(PurchaseReport, second).evidence_id is not None
