"""Fixtures of the ASN report path: a signed-in ASN, an active stall, photos, form data."""

import functools
import io
import re

import pytest
from PIL import ExifTags, Image

from promkm_qr.core.dates import now_wib
from promkm_qr.stalls.links import link_token
from tests.conftest import login
from tests.factories import make_asn, make_stall

FORM_KEY_RE = re.compile(r'name="form_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_key"')


def jpeg_bytes(
    width: int = 1600, height: int = 1200, quality: int = 85, seed: int = 0, exif: bool = False
) -> bytes:
    """A photo-like JPEG (noise over a gradient), optionally with camera time and GPS."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40 + seed)
    image = Image.merge("RGB", (gradient, noise, Image.eval(gradient, lambda v: 255 - v)))
    params = {"quality": quality}
    if exif:
        tags = Image.Exif()
        tags.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:11:28 09:15:00"
        gps = tags.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "S"
        gps[ExifTags.GPS.GPSLatitude] = (7.0, 37.0, 48.0)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E"
        gps[ExifTags.GPS.GPSLongitude] = (111.0, 31.0, 12.0)
        params["exif"] = tags
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **params)
    return buffer.getvalue()


@pytest.fixture
def asn(app):
    """A signed-up ASN (pelaksana, quota Rp50.000)."""
    return make_asn(nip="198609262015051001", name="Sri Rahayu")


@pytest.fixture
def stall(app):
    """An active stall with its poster token."""
    return make_stall(name="Pecel Bu Wiwik")


@pytest.fixture
def form_url(stall):
    """The report form URL of the stall's current poster."""
    return f"/asn/lapor/{link_token(stall.code, stall.poster_version)}"


@pytest.fixture
def signed_in(client, asn):
    """The test client signed in as the ASN."""
    assert login(client, "asn", asn.nip).status_code == 302
    return client


def open_form(client, url: str) -> dict:
    """Open the report form and return its CSRF token and one-time key."""
    from tests.conftest import CSRF_RE

    html = client.get(url).get_data(as_text=True)
    csrf = CSRF_RE.search(html)
    key = FORM_KEY_RE.search(html)
    assert csrf and key, html[:2000]
    return {"csrf_token": csrf.group(1) or csrf.group(2), "form_key": key.group(1) or key.group(2)}


def report_data(tokens: dict, photo: bytes | None = None, **fields) -> dict:
    """Form data for a valid report, with fields overridden."""
    data = {
        **tokens,
        "amount": "Rp25.000",
        "goods_category": "makanan",
        "description": "Nasi pecel dua porsi",
        "purchased_at": now_wib().strftime("%Y-%m-%dT%H:%M"),
        "payment_method": "tunai",
        **fields,
    }
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "nota.jpg")
    return data


def post(client, url: str, data: dict, **kwargs):
    """POST multipart form data and close the response (its upload may be a temp file)."""
    response = client.post(url, data=data, content_type="multipart/form-data", **kwargs)
    response.get_data()
    response.close()
    # Werkzeug's test client spools bodies over 500 KB to a temporary file and closes it only
    # when following redirects; closed here so it is not left to the garbage collector.
    response.request.environ["wsgi.input"].close()
    return response


@functools.cache
def blank_png(width: int, height: int) -> bytes:
    """A whole, valid PNG of the given size whose pixels are all zero (compresses to little)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one grey byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
