"""Edit and withdraw while submitted, 404 for another ASN's report, and Riwayat's totals."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from promkm_qr.core.dates import now_wib
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, PurchaseReport, QuotaRule, ReportTransition
from promkm_qr.reports import workflow
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.conftest import csrf_token, login
from tests.factories import make_asn

PHOTO = jpeg_bytes(400, 300)


def report_now(client, form_url, **fields) -> int:
    """Submit a report through the form and return its id."""
    response = post(client, form_url, report_data(open_form(client, form_url), PHOTO, **fields))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_an_edit_is_kept_in_the_history(signed_in, form_url):
    report_id = report_now(signed_in, form_url)
    url = f"/asn/laporan/{report_id}/ubah"
    page = signed_in.get(url).get_data(as_text=True)
    assert 'value="25000"' in page
    data = report_data({"csrf_token": csrf_token(signed_in, url)}, amount="30.000")
    response = post(signed_in, url, data)
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(PurchaseReport, report_id).amount == 30000
    step = db.session.scalars(
        select(ReportTransition).where(ReportTransition.report_id == report_id)
    ).all()[-1]
    assert step.changes == {"amount": [25000, 30000]}
    last = db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1))
    assert last == "report.edited"
    receipt = signed_in.get(f"/asn/laporan/{report_id}").get_data(as_text=True)
    assert "Rp30.000" in receipt and "25000 → 30000" in receipt


def test_an_edit_with_bad_input_keeps_what_was_typed(signed_in, form_url):
    report_id = report_now(signed_in, form_url)
    url = f"/asn/laporan/{report_id}/ubah"
    data = report_data({"csrf_token": csrf_token(signed_in, url)}, amount="-5000")
    response = post(signed_in, url, data)
    assert response.status_code == 400
    assert "Nominal tidak boleh negatif." in response.get_data(as_text=True)
    assert 'value="-5000"' in response.get_data(as_text=True)


def test_withdraw_then_no_more_changes(signed_in, form_url):
    report_id = report_now(signed_in, form_url)
    receipt = f"/asn/laporan/{report_id}"
    token = csrf_token(signed_in, receipt)
    response = signed_in.post(
        f"{receipt}/tarik", data={"csrf_token": token, "reason": "salah lapak"}
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(PurchaseReport, report_id).state == "withdrawn"
    again = signed_in.post(f"{receipt}/tarik", data={"csrf_token": token}, follow_redirects=True)
    assert "tidak dapat ditarik lagi" in again.get_data(as_text=True)
    edit = signed_in.get(f"{receipt}/ubah", follow_redirects=True)
    assert "tidak dapat diubah lagi" in edit.get_data(as_text=True)


def test_a_confirmed_report_can_no_longer_be_edited(signed_in, form_url, stall):
    report_id = report_now(signed_in, form_url)
    url = f"/asn/laporan/{report_id}/ubah"
    data = report_data({"csrf_token": csrf_token(signed_in, url)}, amount="99.000")
    workflow.transition(report_id, "confirmed", actor_id=stall.owner_id)
    db.session.commit()
    response = post(signed_in, url, data)
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(PurchaseReport, report_id).amount == 25000


@pytest.mark.parametrize("path", ["", "/ubah"])
def test_another_asns_report_answers_404(app, signed_in, form_url, path):
    report_id = report_now(signed_in, form_url)
    other = app.test_client()
    assert login(other, "asn", make_asn().nip).status_code == 302
    assert other.get(f"/asn/laporan/{report_id}{path}").status_code == 404
    token = csrf_token(other, "/asn/pindai")
    assert (
        other.post(f"/asn/laporan/{report_id}/tarik", data={"csrf_token": token}).status_code == 404
    )
    db.session.rollback()
    assert db.session.get(PurchaseReport, report_id).state == "submitted"


def test_riwayat_shows_the_month_total_and_quota_progress(signed_in, form_url, stall):
    report_now(signed_in, form_url, amount="20.000")
    report_now(signed_in, form_url, amount="Rp 15.000")
    withdrawn = report_now(signed_in, form_url, amount="40.000")
    workflow.transition(withdrawn, "withdrawn", actor_id=None)
    db.session.commit()
    html = signed_in.get("/asn/riwayat").get_data(as_text=True)
    assert "Rp35.000" in html  # withdrawn is not counted
    assert "2 laporan dihitung" in html
    assert "Target bulanan Rp50.000" in html and "kurang Rp15.000" in html
    assert 'value="70"' in html
    assert html.count("Pecel Bu Wiwik") == 3


def test_riwayat_follows_a_tpp_share_rule_and_other_months(signed_in, form_url, asn):
    rule = db.session.scalar(select(QuotaRule).where(QuotaRule.position_class == "pelaksana"))
    rule.kind, rule.tpp_share_pct, rule.amount = "tpp_share", 10, 300_000
    asn.asn.tpp_amount = 5_000_000
    db.session.commit()
    report_now(signed_in, form_url, amount="100.000")
    earlier = now_wib() - timedelta(days=6)
    report_now(signed_in, form_url, purchased_at=earlier.strftime("%Y-%m-%dT%H:%M"))
    html = signed_in.get("/asn/riwayat").get_data(as_text=True)
    assert "Target bulanan Rp500.000" in html
    bulan = f"{earlier:%Y-%m}"
    assert f"bulan={bulan}" in html
    other = signed_in.get(f"/asn/riwayat?bulan={bulan}").get_data(as_text=True)
    assert "Rp25.000" in other
    assert signed_in.get("/asn/riwayat?bulan=2026-13").status_code == 404
