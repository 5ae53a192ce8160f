"""QR codes for stall posters: SVG data URIs for print, PNG bytes for screens, size checks."""

import io

import segno

# Posters are printed small and scanned by old phone cameras in dim stalls; version 5 (37x37
# modules) at error level M still scans reliably at about 4 cm, so stall URLs must fit in it.
MAX_POSTER_VERSION = 5


def _make(text: str, error: str) -> segno.QRCode:
    """Build a regular (never Micro) QR code for the text at least at the given error level."""
    # boost_error (segno's default) raises the level for free when it fits the same version.
    return segno.make_qr(text, error=error)


def qr_svg_data_uri(text: str, *, error: str = "m", scale: int = 4, border: int = 4) -> str:
    """Return the QR code as an SVG ``data:`` URI for an <img> in a printable."""
    # Vector output stays sharp at any print size; scale only sets the intrinsic size (CSS px
    # per module) used when the template does not size the image itself. The 4-module border
    # is the quiet zone the QR specification requires for scanning.
    return _make(text, error).svg_data_uri(scale=scale, border=border)


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
