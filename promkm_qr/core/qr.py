"""QR codes for stall posters: SVG data URIs for print, PNG bytes for screens, size checks."""

import io

import segno

from promkm_qr.core import qr_mask

# Posters are printed small and scanned by old phone cameras in dim stalls; version 5 (37x37
# modules) at error level M still scans reliably at about 4 cm, so stall URLs must fit in it.
MAX_POSTER_VERSION = 5


def _make(text: str, error: str) -> segno.QRCode:
    """Build a regular (never Micro) QR code for the text at least at the given error level."""
    # boost_error (segno's default) raises the level for free when it fits the same version;
    # the mask is segno's choice, computed with numpy (a city's posters make 23,600 codes).
    return qr_mask.make_qr(text, error)


def qr_data_uri(text: str, *, error: str = "m", max_version: int = 40) -> str:
    """Return the QR code as a one-pixel-per-module PNG ``data:`` URI for printables.

    Printables scale it up with ``image-rendering: pixelated`` (PDF /Interpolate false), which
    prints as sharp as a vector path but costs WeasyPrint a fraction of an SVG's layout and
    drawing time: that is what lets a whole city's posters and documents print in minutes.
    The 4-module border is the quiet zone the QR specification requires for scanning.
    """
    code = _make(text, error)
    if code.version > max_version:
        # A long PUBLIC_BASE_URL would print dense codes that cheap phones fail to read.
        raise ValueError(f"QR version {code.version} > {max_version}: shorten PUBLIC_BASE_URL")
    return code.png_data_uri(scale=1, border=4)


def qr_pdf_path(text: str, x: float, y: float, size: float, *, error: str = "m") -> bytes:
    """PDF drawing operators that fill the QR code as a square of `size` points whose top-left
    corner is at (x, y), y measured up from the bottom of the page; quiet zone included.

    One rectangle per run of dark modules in a row: a monthly document's verification QR
    drawn this way needs no image to encode, decode and embed.
    """
    matrix = _make(text, error).matrix
    module = size / (len(matrix) + 8)  # 4 modules of quiet zone on each side
    ops = ["q 0 g"]
    for row, line in enumerate(matrix):
        top = y - (row + 4) * module
        column = 0
        while column < len(line):
            if not line[column]:
                column += 1
                continue
            start = column
            while column < len(line) and line[column]:
                column += 1
            left, width = x + (start + 4) * module, (column - start) * module
            ops.append(f"{left:.3f} {top - module:.3f} {width:.3f} {module:.3f} re")
    ops.append("f Q")
    return "\n".join(ops).encode()


def qr_png_bytes(text: str, *, error: str = "m", scale: int = 8, border: int = 4) -> bytes:
    """Return the QR code as PNG bytes, for web pages and downloads."""
    buffer = io.BytesIO()
    _make(text, error).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_version(text: str, error: str = "m") -> int:
    """Return the smallest QR version (1-40) that holds the text at the given error level."""
    return _make(text, error).version


def fits_poster(text: str, *, error: str = "m", max_version: int = MAX_POSTER_VERSION) -> bool:
    """Tell whether the text fits a QR code no bigger than the poster limit (version 5 at M)."""
    try:
        return qr_version(text, error) <= max_version
    except segno.DataOverflowError:  # longer than even a version 40 code holds
        return False
