"""What the phone's queue gets from the server: JSON answers to a report that waited, the
purchase time typed on the phone, a fresh CSRF token after signing in again, and the web
app's manifest, worker and kept form."""

import io
import json
from datetime import timedelta

from sqlalchemy import func, select

from promkm_qr.core.dates import now_wib
from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport
from promkm_qr.public.webapp import _worker_script
from tests.asn.conftest import jpeg_bytes, open_form, report_data
from tests.conftest import login

SMALL = jpeg_bytes(400, 300)
JSON = {"Accept": "application/json"}


def send(client, url: str, data: dict, csrf: str | None = None):
    """POST the way asn-outbox.js does: multipart, asking for JSON, the token in a header."""
    if "photo" in data:
        data = {**data, "photo": (io.BytesIO(SMALL), "foto.jpg")}
    headers = {**JSON, "X-CSRFToken": csrf or data["csrf_token"]}
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(PurchaseReport.id)))


def test_a_queued_report_gets_json_and_a_resend_gets_the_same_receipt(signed_in, form_url):
    data = report_data(open_form(signed_in, form_url), SMALL)
    first = send(signed_in, form_url, data)
    assert first.status_code == 200 and first.json["ok"] and first.json["created"]
    again = send(signed_in, form_url, data)
    assert again.json == {**first.json, "created": False}
    assert first.json["receipt"].startswith("/asn/laporan/")
    assert count() == 1


def test_the_purchase_time_is_the_one_typed_on_the_phone(signed_in, form_url):
    bought = (now_wib() - timedelta(days=2, hours=3)).replace(second=0, microsecond=0)
    typed = bought.strftime("%Y-%m-%dT%H:%M")
    data = report_data(open_form(signed_in, form_url), SMALL, purchased_at=typed)
    receipt = send(signed_in, form_url, data).json["receipt"]
    html = signed_in.get(receipt).get_data(as_text=True)
    report = db.session.scalar(select(PurchaseReport))
    assert report.created_at - report.purchased_at > timedelta(days=2)  # sent two days later
    assert "data-purchased-at" in html and "data-sent-at" in html


def test_a_purchase_too_old_when_it_arrives_is_refused_with_the_reason(signed_in, form_url):
    typed = (now_wib() - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")
    data = report_data(open_form(signed_in, form_url), SMALL, purchased_at=typed)
    answer = send(signed_in, form_url, data)
    assert answer.status_code == 400 and answer.json["ok"] is False
    assert "lebih dari 7 hari" in answer.json["errors"]["purchased_at"][0]
    assert count() == 0


def test_a_link_revoked_while_waiting_is_refused_in_words(signed_in, stall, form_url):
    data = report_data(open_form(signed_in, form_url), SMALL)
    stall.poster_version += 1
    db.session.commit()
    answer = send(signed_in, form_url, data)
    assert answer.status_code == 410
    assert "Poster ini sudah diganti" in answer.json["message"]
    assert count() == 0


def test_after_signing_in_again_the_queue_gets_a_fresh_token(client, asn, form_url):
    login(client, "asn", asn.nip)
    data = report_data(open_form(client, form_url), SMALL)
    client.post("/auth/keluar", data={"csrf_token": data["csrf_token"]})
    assert client.get("/asn/kirim-token").status_code == 302  # signed out: to sign-in
    login(client, "asn", asn.nip)
    who = client.get("/asn/kirim-token").json
    assert who["user"] == asn.id
    answer = send(client, form_url, {**data, "csrf_token": who["csrf_token"]})
    assert answer.json["ok"] and count() == 1


def test_the_kept_form_names_no_stall_and_no_key(signed_in):
    html = signed_in.get("/asn/lapor-luring").get_data(as_text=True)
    assert "data-offline-stall" in html and 'name="form_key" type="hidden" value=""' in html
    assert 'data-action-pattern="/asn/lapor/__TOKEN__"' in html


def test_manifest_and_worker(client):
    manifest = json.loads(client.get("/manifest.webmanifest").get_data(as_text=True))
    assert manifest["start_url"] == "/asn/" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and worker.cache_control.no_cache
    config = json.loads(worker.get_data(as_text=True).split(" = ", 1)[1].split(";\n", 1)[0])
    assert "/static/asn-outbox.js?v=" in " ".join(config["files"])
    # Another file list (a release changed a file) is another version, so a new worker.
    assert (
        _worker_script("x", '{"v": "VERSION", "a": 1}')[0]
        != _worker_script("x", '{"v": "VERSION", "a": 2}')[0]
    )
