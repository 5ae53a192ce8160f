"""The whole path on a phone: poster URL, sign in, form, photo, receipt, Riwayat."""

import pytest
import segno
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import PhotoUpload, PurchaseReport
from promkm_qr.stalls.links import link_token, poster_url
from tests.asn.conftest import jpeg_bytes
from tests.conftest import PASSWORD


@pytest.mark.browser
def test_poster_to_receipt_to_riwayat_on_a_phone(live_server, phone, asn, stall, tmp_path):
    photo = tmp_path / "IMG_20261128.jpg"
    photo.write_bytes(jpeg_bytes(3000, 2250, quality=92))
    phone.context.grant_permissions(["geolocation"], origin=live_server)
    phone.context.set_geolocation({"latitude": -7.6298, "longitude": 111.5239})
    phone.goto(f"{live_server}/q/{link_token(stall.code, stall.poster_version)}")

    assert "/auth/masuk" in phone.url
    phone.fill("input[name=identifier]", asn.nip)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button:has-text('Masuk')")

    phone.wait_for_url("**/asn/lapor/**")
    assert "Pecel Bu Wiwik" in phone.inner_text(".stall-card")
    phone.fill("input[name=amount]", "Rp 45.000")
    phone.select_option("select[name=goods_category]", "makanan")
    phone.fill("textarea[name=description]", "Pecel dan es teh")
    phone.check("input[name=payment_method][value=qris]")
    phone.wait_for_selector("[data-location-status]:not([hidden])")
    phone.set_input_files("input[name=photo]", str(photo))
    phone.wait_for_selector("[data-photo-status]:not([hidden])")
    assert "Foto diperkecil" in phone.inner_text("[data-photo-status]")
    phone.click("[data-submit]")

    phone.wait_for_url("**/asn/laporan/**")
    db.session.rollback()
    report = db.session.scalar(select(PurchaseReport))
    assert phone.inner_text("[data-reference]") == report.reference
    assert phone.inner_text("[data-amount]") == "Rp45.000"
    assert phone.inner_text("[data-state]") == "Menunggu konfirmasi penjual"
    assert report.payment_method == "qris" and report.amount == 45000
    assert (report.lat, report.lon) == (-7.6298, 111.5239)  # the phone's position
    # The phone sent the shrunk photo, not the original.
    upload = db.session.scalar(select(PhotoUpload))
    assert upload.size < photo.stat().st_size / 2
    # The size as received (the upload itself may already be gone: the worker deletes it
    # once the evidence is made).
    assert upload.size <= 350_000  # the phone's target (static/asn-photo.js)

    phone.click("nav >> text=Riwayat")
    phone.wait_for_url("**/asn/riwayat")
    assert phone.inner_text("[data-month-total]") == "Rp45.000"
    assert report.reference in phone.inner_text(".report-list")


DECODE = """async (src) => {
  const image = new Image();
  image.src = src;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const found = jsQR(pixels.data, pixels.width, pixels.height);
  return found && found.data;
}"""


@pytest.mark.browser
def test_the_scanner_decodes_a_poster_qr_and_opens_the_form(live_server, phone, asn, stall):
    url = poster_url(stall.code, stall.poster_version)  # printed with the public host
    phone.goto(f"{live_server}/auth/masuk?next=/asn/pindai")
    phone.fill("input[name=identifier]", asn.nip)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button:has-text('Masuk')")
    phone.wait_for_url("**/asn/pindai")
    # The decoder the page falls back to, served by the app itself, reads a printed QR.
    phone.add_script_tag(url=f"{live_server}/asn/vendor/jsQR.js")
    decoded = phone.evaluate(DECODE, segno.make(url, error="m").png_data_uri(scale=6))
    assert decoded == url
    phone.evaluate("(text) => window.scanHandle(text)", "https://example.com/lain")
    assert "bukan poster ProUMKM" in phone.inner_text("[data-scan-error]")
    phone.evaluate("(text) => window.scanHandle(text)", decoded)
    # The poster's own address, where a signed-in ASN gets the form.
    phone.wait_for_url(f"**/q/{url.rsplit('/', 1)[1]}")
    assert "Pecel Bu Wiwik" in phone.inner_text(".stall-card")
