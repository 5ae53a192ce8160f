"""Tests for QR codes: they fit small posters and scan back from a printed PDF."""

import base64
import io
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from promkm_qr.core.pdf import render_pdf
from promkm_qr.core.qr import (
    MAX_POSTER_VERSION,
    fits_poster,
    qr_data_uri,
    qr_png_bytes,
    qr_version,
)

ROOT = Path(__file__).parent / "printables_fixture"
STALL_URL = "https://promkm.madiunkota.go.id/q/3577011001-00042.1.AbCdEf123"


def _decode(image: Image.Image) -> list[str]:
    """Texts of all QR codes zxing-cpp finds in the image."""
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_stall_url_fits_a_small_poster_code():
    assert qr_version(STALL_URL) <= MAX_POSTER_VERSION
    assert qr_version(STALL_URL, error="m") <= 5
    assert fits_poster(STALL_URL)


def test_long_text_does_not_fit_a_poster():
    assert not fits_poster(STALL_URL + "/" + "x" * 100)
    assert not fits_poster("x" * 5000)  # too long for any QR version


# "qr" embeds the code as an image; "qr_drawn" has an empty square that the renderer fills
# with the code as a vector path after layout (data-qr).
@pytest.mark.parametrize("printable", ["qr", "qr_drawn"])
def test_qr_in_pdf_scans_back(tmp_path, printable):
    pdf = render_pdf(printable, {"stall": {"name": "Warung Bu Sri"}, "url": STALL_URL}, root=ROOT)
    (tmp_path / "poster.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "poster.pdf", "poster"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    with Image.open(tmp_path / "poster.png") as page:
        assert _decode(page) == [STALL_URL]


def test_data_uri_is_one_pixel_per_module_png():
    uri = qr_data_uri(STALL_URL)
    assert uri.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2]))) as image:
        modules = 17 + 4 * qr_version(STALL_URL) + 2 * 4
        assert image.size == (modules, modules)


def test_data_uri_refuses_codes_above_the_limit():
    with pytest.raises(ValueError, match="QR version"):
        qr_data_uri(STALL_URL + "/" + "x" * 100, max_version=MAX_POSTER_VERSION)


@pytest.mark.parametrize(("scale", "border"), [(1, 4), (8, 4), (10, 2)])
def test_png_bytes_scan_back(scale, border):
    png = qr_png_bytes(STALL_URL, scale=scale, border=border)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        modules = 17 + 4 * qr_version(STALL_URL) + 2 * border
        assert image.size == (modules * scale, modules * scale)
        # zxing needs a few pixels per module; upscale the 1 px version without blurring.
        image = image.convert("L").resize((modules * 8, modules * 8), Image.Resampling.NEAREST)
        assert _decode(image) == [STALL_URL]
