"""A merchant on a phone disputes one report and confirms another; the ASN sees both."""

import pytest
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport
from tests.conftest import PASSWORD
from tests.factories import make_asn, make_merchant, make_report, make_stall


@pytest.mark.browser
def test_merchant_disputes_one_report_and_confirms_another(app, live_server, phone):
    merchant = make_merchant(phone="081277770001")
    stall = make_stall(owner=merchant, name="Pecel Bu Tini")
    asn = make_asn(name="Agus Santoso")
    wrong = make_report(asn, stall, 95_000, description="Nasi pecel")
    right = make_report(asn, stall, 18_000, description="Es teh")

    phone.goto(f"{live_server}/auth/masuk?next=/umkm/")
    phone.get_by_label("Pelaku UMKM").check()
    phone.locator("input[name=identifier]").fill(merchant.phone)
    phone.locator("input[name=password]").fill(PASSWORD)
    phone.get_by_role("button", name="Masuk").click()
    phone.wait_for_url(f"{live_server}/umkm/")

    disputed = phone.locator(f"#laporan-{wrong.id}")
    disputed.get_by_text("Sanggah", exact=True).click()
    disputed.get_by_label("Alasan sanggahan").select_option("amount")
    disputed.get_by_label("Keterangan (boleh kosong)").fill("Hanya Rp9.500")
    disputed.get_by_role("button", name="Kirim sanggahan").click()
    phone.wait_for_load_state()
    assert "1 laporan disanggah." in phone.content()

    phone.locator(f"#laporan-{right.id}").get_by_role("button", name="Konfirmasi").click()
    phone.wait_for_load_state()
    assert "1 laporan dikonfirmasi." in phone.content()
    assert phone.locator(f"#laporan-{wrong.id} .badge").inner_text() == "Disanggah penjual"
    assert phone.locator(f"#laporan-{right.id} .badge").inner_text() == "Dikonfirmasi penjual"

    db.session.rollback()
    states = dict(
        db.session.execute(
            select(PurchaseReport.id, PurchaseReport.state).where(PurchaseReport.asn_id == asn.id)
        ).all()
    )
    assert states == {wrong.id: "disputed", right.id: "confirmed"}

    phone.get_by_role("button", name="Keluar").click()
    phone.goto(f"{live_server}/auth/masuk?next=/asn/riwayat")
    phone.locator("input[name=identifier]").fill(asn.nip)
    phone.locator("input[name=password]").fill(PASSWORD)
    phone.get_by_role("button", name="Masuk").click()
    phone.wait_for_url(f"{live_server}/asn/riwayat")
    for report, label in ((wrong, "Disanggah penjual"), (right, "Dikonfirmasi penjual")):
        row = phone.locator("ul.report-list li", has_text=report.reference)
        assert row.locator(".badge").inner_text() == label
