"""PDF helpers for the documents tests: text, pages and QR codes read back."""

import io
import subprocess

import pypdf
import zxingcpp
from PIL import Image


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF, whitespace collapsed."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def decode_qr(pdf_path, page: int) -> list[str]:
    """Rasterise a page with pdftoppm at 150 dpi and decode its QR codes with zxing-cpp."""
    png = subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page), str(pdf_path)],
        check=True,
        capture_output=True,
    ).stdout
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
