"""The report form: a good report, the one-time key, and every bad input the issue lists."""

import io
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from promkm_qr.core.dates import now_wib
from promkm_qr.extensions import db
from promkm_qr.models import (
    AuditEntry,
    OutboxMessage,
    PhotoUpload,
    PurchaseReport,
    RefusedScan,
    ReportTransition,
    Setting,
)
from promkm_qr.reports.submit import RULES_TASK
from promkm_qr.stalls.links import link_token
from tests.asn.conftest import blank_png, jpeg_bytes, open_form, post, report_data
from tests.conftest import login
from tests.factories import make_asn, make_merchant

SMALL = jpeg_bytes(400, 300)


def stored_uploads(app) -> set[Path]:
    """The raw uploads waiting in storage."""
    return {p for p in (Path(app.config["STORAGE_DIR"]) / "uploads").rglob("*") if p.is_file()}


def report_count() -> int:
    """How many reports exist."""
    db.session.rollback()
    return db.session.scalar(select(func.count(PurchaseReport.id)))


@pytest.mark.parametrize("typed", ["50000", "50.000", "Rp50.000", "Rp 50.000", "50,000"])
def test_a_report_is_recorded_with_its_history_audit_and_outbox(signed_in, form_url, typed):
    tokens = open_form(signed_in, form_url)
    response = post(signed_in, form_url, report_data(tokens, SMALL, amount=typed))
    assert response.status_code == 302
    assert "/asn/laporan/" in response.headers["Location"]

    report = db.session.scalar(select(PurchaseReport))
    assert (report.amount, report.state, report.idempotency_key) == (
        50000,
        "submitted",
        tokens["form_key"],
    )
    steps = db.session.scalars(select(ReportTransition)).all()
    assert [(s.from_state, s.to_state) for s in steps] == [(None, "submitted")]
    assert db.session.scalar(select(AuditEntry.action)) == "report.submitted"
    # The broker took the photo's message at once: the outbox keeps only refused ones.
    assert db.session.scalar(select(OutboxMessage)) is None
    # Pending until a worker (if one runs in this session) has made the evidence.
    assert db.session.scalar(select(PhotoUpload.report_id)) == report.id

    html = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert report.reference in html
    assert "Pecel Bu Wiwik" in html
    assert "Rp50.000" in html
    assert "Menunggu konfirmasi penjual" in html


def test_resending_the_same_form_shows_the_same_receipt(app, signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    before = stored_uploads(app)
    first = post(signed_in, form_url, report_data(tokens, SMALL))
    again = post(signed_in, form_url, report_data(tokens, SMALL, amount="99.000"))
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert report_count() == 1
    assert db.session.scalar(select(PurchaseReport.amount)) == 25000
    # The resend's upload, stored before the unique key turned it away, is removed.
    assert len(stored_uploads(app) - before) <= 1


def test_another_asns_form_key_answers_404_and_records_nothing(app, signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    assert post(signed_in, form_url, report_data(tokens, SMALL)).status_code == 302
    other = app.test_client()
    assert login(other, "asn", make_asn().nip).status_code == 302
    theirs = {**open_form(other, form_url), "form_key": tokens["form_key"]}
    assert post(other, form_url, report_data(theirs, SMALL)).status_code == 404
    assert report_count() == 1


def test_the_same_form_key_sent_twice_at_once_records_one_report(app, asn, form_url):
    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        assert login(c, "asn", asn.nip).status_code == 302
    tokens = [open_form(c, form_url) for c in clients]
    before = stored_uploads(app)
    key = tokens[0]["form_key"]
    start = threading.Barrier(2)
    responses = [None, None]

    def send(i: int) -> None:
        data = report_data({**tokens[i], "form_key": key}, SMALL)
        start.wait()
        responses[i] = post(clients[i], form_url, data)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0].headers["Location"] == responses[1].headers["Location"]
    assert report_count() == 1
    assert db.session.scalar(select(func.count(PhotoUpload.id))) == 1
    # The losing request's upload is not left behind in storage. The winner's stays until a
    # worker (if one runs in this session) has processed it; read files first, state second.
    new_files = stored_uploads(app) - before
    db.session.rollback()
    if db.session.scalar(select(PhotoUpload.state)) == "pending":
        assert len(new_files) == 1
    assert len(new_files) <= 1


def _tomorrow() -> str:
    return (now_wib() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


def _old() -> str:
    return (now_wib() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("fields", "photo", "message"),
    [
        ({"amount": "0"}, SMALL, "Nominal harus lebih dari nol."),
        ({"amount": "-5000"}, SMALL, "Nominal tidak boleh negatif."),
        ({"amount": "abc"}, SMALL, "Nominal tidak dikenali"),
        ({"amount": "1e9"}, SMALL, "Nominal tidak dikenali"),
        ({"amount": "Rp6.000.000"}, SMALL, "Nominal melebihi batas satu laporan (Rp5.000.000)."),
        ({"purchased_at": _tomorrow()}, SMALL, "Tanggal pembelian tidak boleh di masa depan."),
        ({"purchased_at": _old()}, SMALL, "lebih dari 7 hari yang lalu"),
        ({"purchased_at": "kemarin"}, SMALL, "Tanggal dan jam pembelian tidak valid."),
        ({}, PDF, "Berkas bukan foto yang didukung."),
        ({}, blank_png(20000, 20000), "Resolusi foto terlalu besar."),
        ({}, SMALL[: len(SMALL) // 2], "Foto rusak atau tidak lengkap."),
        ({}, None, "Foto barang atau nota wajib dilampirkan."),
        ({}, b"", "Berkas foto kosong."),
        ({}, blank_png(1, 1), "Foto terlalu kecil (1 × 1 piksel)"),
        ({}, jpeg_bytes(1600, 199), "sisi terpendek foto bukti paling sedikit 200 piksel"),
        ({"amount": "12,50"}, SMALL, "dibaca Rp12 lebih 50 sen, padahal rupiah ditulis tanpa sen"),
        ({"goods_category": ""}, SMALL, "Pilih jenis barang."),
        ({"goods_category": "senjata"}, SMALL, "Pilih jenis barang."),
        ({"payment_method": "kredit"}, SMALL, "Pilih cara bayar."),
    ],
)
def test_bad_input_is_answered_in_indonesian_and_keeps_what_was_typed(
    signed_in, form_url, fields, photo, message
):
    tokens = open_form(signed_in, form_url)
    data = report_data(tokens, photo, description="Es dawet & tahu <b>", **fields)
    response = post(signed_in, form_url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "Not a valid choice" not in html and "This field is required" not in html
    assert "Laporan belum terkirim" in html
    # Typed values come back (escaped); the one-time key stays for the corrected resend.
    assert "Es dawet &amp; tahu &lt;b&gt;" in html
    assert f'value="{data["amount"]}"' in html
    assert tokens["form_key"] in html
    assert report_count() == 0


def test_a_pdf_renamed_jpg_is_refused_by_content(signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    data = report_data(tokens)
    data["photo"] = (io.BytesIO(PDF), "nota.jpg", "image/jpeg")
    response = post(signed_in, form_url, data)
    assert response.status_code == 400
    assert "Berkas bukan foto yang didukung." in response.get_data(as_text=True)


def test_a_30_mb_upload_gets_a_clear_413_page(signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    # Encoded by hand: the test client would spool a body this big to a file it never closes.
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in report_data(tokens).items()
    ]
    photo = b'--B\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n\r\n'
    body = b"".join(parts) + photo + b"\xff\xd8\xff" + bytes(30_000_000) + b"\r\n--B--\r\n"
    response = signed_in.post(form_url, data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
    assert "Berkas terlalu besar" in response.get_data(as_text=True)
    assert report_count() == 0


def test_missing_csrf_token_is_refused(signed_in, form_url):
    tokens = open_form(signed_in, form_url)
    data = report_data({"form_key": tokens["form_key"]}, SMALL)
    response = post(signed_in, form_url, data)
    assert response.status_code == 400
    assert "token CSRF" in response.get_data(as_text=True)
    assert report_count() == 0


def test_a_forged_link_is_refused(signed_in, stall):
    token = link_token(stall.code, stall.poster_version)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = signed_in.get(f"/asn/lapor/{forged}")
    assert response.status_code == 404
    assert "Kode QR ini tidak dikenali" in response.get_data(as_text=True)
    assert db.session.scalar(select(RefusedScan.reason)) == "forged"


def test_a_revoked_poster_is_refused_also_on_submit(signed_in, stall, form_url):
    tokens = open_form(signed_in, form_url)
    stall.poster_version += 1
    db.session.commit()
    response = post(signed_in, form_url, report_data(tokens, SMALL))
    assert response.status_code == 410
    assert "Poster ini sudah diganti" in response.get_data(as_text=True)
    assert report_count() == 0


def test_a_suspended_stall_cannot_be_reported(signed_in, stall, form_url):
    stall.status = "suspended"
    db.session.commit()
    response = signed_in.get(form_url)
    assert response.status_code == 410
    assert "Lapak ini sedang tidak aktif" in response.get_data(as_text=True)


def test_an_impossible_nip_is_refused_at_sign_in_and_kept(client, form_url):
    response = login(client, "asn", "19861345201505 1 001", next_url=form_url)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "tanggal lahir" in html.lower()
    assert "19861345201505 1 001" in html


def test_the_poster_url_leads_through_sign_in_back_to_the_form(client, asn, stall):
    token = link_token(stall.code, stall.poster_version)
    to_form = client.get(f"/q/{token}")
    assert to_form.headers["Location"].endswith(f"/asn/lapor/{token}")
    to_login = client.get(to_form.headers["Location"])
    assert "/auth/masuk" in to_login.headers["Location"]
    signed = login(client, "asn", asn.nip, next_url=f"/asn/lapor/{token}")
    assert signed.headers["Location"] == f"/asn/lapor/{token}"
    html = client.get(signed.headers["Location"]).get_data(as_text=True)
    assert "Pecel Bu Wiwik" in html
    assert stall.code in html
    assert "Kartoharjo" in html or stall.kelurahan.name in html


def test_a_signed_in_asn_gets_the_form_at_the_poster_url(signed_in, stall, form_url):
    token = link_token(stall.code, stall.poster_version)
    page = signed_in.get(f"/q/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Pecel Bu Wiwik" in html
    assert stall.kelurahan.name in html
    # The form posts where the form lives, not back to the poster URL (GET only).
    assert f'action="{form_url}"' in html
    assert page.headers["Cache-Control"] == "private, no-store"
    response = post(signed_in, form_url, report_data(open_form(signed_in, f"/q/{token}"), SMALL))
    assert response.status_code == 302
    assert report_count() == 1
    # A replaced poster is refused to a signed-in ASN as to anyone.
    stall.poster_version += 1
    db.session.commit()
    refused = signed_in.get(f"/q/{token}")
    assert refused.status_code == 410
    assert "Kode QR tidak berlaku" in refused.get_data(as_text=True)


def test_the_poster_url_sends_other_roles_to_the_asn_form(client, stall):
    merchant = make_merchant()
    assert login(client, "merchant", merchant.phone).status_code == 302
    token = link_token(stall.code, stall.poster_version)
    response = client.get(f"/q/{token}")
    assert response.headers["Location"].endswith(f"/asn/lapor/{token}")
    assert client.get(response.headers["Location"]).status_code == 403


def test_without_a_required_photo_the_rules_are_queued_at_once(signed_in, form_url):
    db.session.get(Setting, "photo_required").value = False
    db.session.commit()
    response = post(signed_in, form_url, report_data(open_form(signed_in, form_url)))
    assert response.status_code == 302
    report = db.session.scalar(select(PurchaseReport))
    message = db.session.scalar(select(OutboxMessage))
    assert (message.task, message.args) == (RULES_TASK, [report.id])
    assert report.evidence_id is None
    assert db.session.scalar(select(func.count(PhotoUpload.id))) == 0


def test_an_empty_photo_file_is_refused_also_when_no_photo_is_required(signed_in, form_url):
    """An empty file is a photo that went wrong on the phone, not a report without a photo."""
    db.session.get(Setting, "photo_required").value = False
    db.session.commit()
    response = post(signed_in, form_url, report_data(open_form(signed_in, form_url), b""))
    assert response.status_code == 400
    assert "Berkas foto kosong." in response.get_data(as_text=True)
    assert report_count() == 0


def test_the_smallest_evidence_is_the_photo_min_side_setting(signed_in, form_url):
    ok = post(signed_in, form_url, report_data(open_form(signed_in, form_url), blank_png(200, 900)))
    assert ok.status_code == 302
    db.session.get(Setting, "photo_min_side").value = 640
    db.session.commit()
    refused = post(signed_in, form_url, report_data(open_form(signed_in, form_url), SMALL))
    assert refused.status_code == 400
    assert "Foto terlalu kecil (400 × 300 piksel)" in refused.get_data(as_text=True)
    assert "paling sedikit 640 piksel" in refused.get_data(as_text=True)


def test_the_new_messages_are_english_on_english_pages(signed_in, form_url):
    signed_in.get(form_url + "?lang=en")
    tokens = open_form(signed_in, form_url)
    response = post(signed_in, form_url, report_data(tokens, blank_png(1, 1), amount="12,50"))
    html = response.get_data(as_text=True)
    assert "reads as Rp12 and 50 cents" in html and "1.250.000 is the same as 1,250,000" in html
    assert "The photo is too small (1 × 1 pixels)" in html
    response = post(signed_in, form_url, report_data(tokens, SMALL, description="a\u202eb"))
    assert "hidden character (U+202E)" in response.get_data(as_text=True)


def test_unwritable_storage_fails_cleanly_and_keeps_the_form(app, signed_in, form_url, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the storage directory should be")
    tokens = open_form(signed_in, form_url)
    before = stored_uploads(app)
    app.config["STORAGE_DIR"], saved = str(blocker / "storage"), app.config["STORAGE_DIR"]
    try:
        response = post(signed_in, form_url, report_data(tokens, SMALL, amount="Rp 73.500"))
    finally:
        app.config["STORAGE_DIR"] = saved
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Foto tidak dapat disimpan saat ini" in html
    assert "Rp 73.500" in html and "Nasi pecel dua porsi" in html  # what was typed is kept
    assert report_count() == 0
    assert stored_uploads(app) == before
    assert not list((blocker.parent).rglob("uploads"))  # no orphan file anywhere
