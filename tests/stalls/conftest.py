"""Helpers for stall tests: rasterise PDFs and decode their QR codes independently."""

import io
import subprocess
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from PIL import Image

from tests.conftest import login
from tests.factories import make_staff


def decode_pages(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """Rasterise every page at 150 dpi with pdftoppm and decode all QR codes with zxing-cpp."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(source), str(tmp_path / "page")], check=True
    )
    pages = []
    for png in sorted(tmp_path.glob("page-*.png")):
        found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
        pages.append([code.text for code in found])
    return pages


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF with whitespace collapsed."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def page_count(pdf: bytes) -> int:
    """Number of pages of a PDF."""
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def operator(client):
    """A signed-in operator (city-wide)."""
    user = make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    return user
