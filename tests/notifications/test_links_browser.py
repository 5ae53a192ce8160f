"""A link in a message opens the right page on the reader's phone, after sign-in."""

import pytest
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Notification
from promkm_qr.reports import review
from tests.conftest import PASSWORD
from tests.factories import make_asn, make_merchant, make_report, make_stall


@pytest.mark.browser
def test_the_dispute_message_link_opens_the_report_after_sign_in(
    app, live_server, phone, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server)
    asn, merchant = make_asn(nip="199001012015011001"), make_merchant()
    report = make_report(asn, make_stall(owner=merchant), 45_000)
    review.dispute(report.id, merchant.id, "no_purchase")
    db.session.commit()
    message = db.session.scalar(select(Notification).where(Notification.user_id == asn.id))
    assert message.link == f"{live_server}/asn/laporan/{report.id}"

    phone.goto(message.link)  # signed out: the sign-in page first
    assert "/auth/masuk" in phone.url
    phone.fill("input[name=identifier]", asn.nip)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button:has-text('Masuk')")
    phone.wait_for_url(f"**/asn/laporan/{report.id}")
    page = phone.inner_text("main")
    assert report.reference in page and "Tidak ada pembelian" in page
