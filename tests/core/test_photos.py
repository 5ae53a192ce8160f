"""Tests for purchase-evidence photo processing: accepted formats, limits, metadata, hashes."""

import hashlib
import io
import random
import struct
import time
import zlib
from datetime import datetime

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFile, ImageFilter

from promkm_qr.core.photos import (
    PhotoRejected,
    check_photo,
    perceptual_distance,
    process_photo,
)

TAKEN_AT = "2025:03:14 09:26:53"


def _scene(seed: int, size: tuple[int, int]) -> Image.Image:
    """A photo-like picture: a gradient with soft coloured blobs, different for each seed."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(width // 20, width // 4)
        fill = tuple(rnd.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    return image.filter(ImageFilter.GaussianBlur(width / 400))


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    """The image saved in the given format, as bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: device, orientation, capture time and a spot in Madiun."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = TAKEN_AT
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (7.0, 37.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (111.0, 31.0, 12.0)
    return exif


def _huge_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given size, so only a header check can refuse it."""
    data = bytearray(_encode(Image.new("1", (8, 8)), "PNG"))
    # Signature (8 bytes), IHDR length and type (8), then width and height, then the CRC.
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.fixture(scope="module")
def camera_jpeg() -> bytes:
    """A 1600x1200 phone JPEG with EXIF capture time and GPS."""
    return _encode(_scene(1, (1600, 1200)), "JPEG", quality=90, exif=_camera_exif())


def test_jpeg_keeps_facts_and_drops_metadata(camera_jpeg):
    photo = process_photo(camera_jpeg)
    assert photo.exif_taken_at == datetime(2025, 3, 14, 9, 26, 53)
    assert photo.gps == pytest.approx((-7.63, 111.52))
    assert (photo.width, photo.height) == (1600, 1200)
    assert photo.sha256 == hashlib.sha256(photo.jpeg).hexdigest()
    assert photo.original_sha256 == hashlib.sha256(camera_jpeg).hexdigest()
    assert len(photo.phash) == 16
    with Image.open(io.BytesIO(photo.jpeg)) as output:
        assert output.format == "JPEG"
        assert output.size == (1600, 1200)
        assert not output.getexif()
        assert not {"exif", "icc_profile", "xmp"} & output.info.keys()
    assert b"TestCam" not in photo.jpeg
    with Image.open(io.BytesIO(photo.thumb_jpeg)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (320, 240)
        assert not thumb.getexif()


def test_exif_orientation_is_applied():
    data = _encode(_scene(3, (1200, 900)), "JPEG", exif=_camera_exif(orientation=6))
    photo = process_photo(data)
    assert (photo.width, photo.height) == (900, 1200)


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "RGBA"), ("PNG", "P"), ("WEBP", "RGB")])
def test_png_and_webp_become_jpeg(fmt, mode):
    data = _encode(_scene(4, (800, 600)).convert(mode), fmt)
    photo = process_photo(data)
    assert (photo.width, photo.height) == (800, 600)
    assert photo.exif_taken_at is None
    assert photo.gps is None
    with Image.open(io.BytesIO(photo.jpeg)) as output:
        assert (output.format, output.mode) == ("JPEG", "RGB")


def test_twelve_megapixel_jpeg_is_downscaled_quickly():
    data = _encode(_scene(5, (4000, 3000)), "JPEG", quality=85)
    started = time.perf_counter()
    photo = process_photo(data)
    elapsed = time.perf_counter() - started
    assert (photo.width, photo.height) == (1600, 1200)
    with Image.open(io.BytesIO(photo.jpeg)) as output:
        assert max(output.size) <= 1600
    # About 0.2 s with draft() on a slow CI core; a full-size decode is several times slower.
    assert elapsed < 5


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", id="pdf"),
        pytest.param(random.Random(0).randbytes(4096), id="random"),
        pytest.param(_encode(Image.new("RGB", (8, 8)), "GIF"), id="gif"),
        pytest.param(_encode(Image.new("RGB", (8, 8)), "BMP"), id="bmp"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, id="jpeg-magic-garbage"),
    ],
)
def test_refuses_what_is_not_a_photo(data):
    with pytest.raises(PhotoRejected, match=r"JPEG, PNG, atau WebP|rusak"):
        process_photo(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("pillow_pads_truncated", [False, True])
def test_refuses_truncated_upload(fmt, pillow_pads_truncated, monkeypatch):
    # Importing WeasyPrint turns Pillow's padding of truncated images on for the whole process.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", pillow_pads_truncated)
    data = _encode(_scene(6, (640, 480)), fmt, exif=_camera_exif())
    with pytest.raises(PhotoRejected, match="rusak"):
        process_photo(data[: len(data) * 2 // 3])


def test_accepts_jpeg_with_trailer_and_multi_picture_jpeg():
    # Some phones append data after the image (e.g. motion photos) or save MPO files.
    scene = _scene(7, (2000, 1500))
    with_trailer = _encode(scene, "JPEG", exif=_camera_exif()) + b"\x00" * 64 + b"SEFT"
    multi = _encode(scene, "MPO", save_all=True, append_images=[scene.resize((200, 150))])
    for data in (with_trailer, multi):
        photo = process_photo(data)
        assert (photo.width, photo.height) == (1600, 1200)


def test_refuses_empty_upload():
    with pytest.raises(PhotoRejected, match="kosong"):
        process_photo(b"")


def test_refuses_upload_over_the_byte_limit(camera_jpeg):
    with pytest.raises(PhotoRejected, match="15 MB"):
        process_photo(b"\xff\xd8\xff" + bytes(15_000_000))
    with pytest.raises(PhotoRejected, match="melebihi"):
        process_photo(camera_jpeg, max_bytes=len(camera_jpeg) - 1)


@pytest.mark.parametrize("side", [20_000, 10_000, 7_000])
def test_refuses_too_many_pixels_from_the_header(side):
    # 20000x20000 trips Pillow's DecompressionBombError, 10000x10000 its warning (an error
    # under pytest's filter) and 7000x7000 (49 MP) only our own 40 MP limit.
    started = time.perf_counter()
    with pytest.raises(PhotoRejected, match="Resolusi"):
        process_photo(_huge_png(side, side))
    assert time.perf_counter() - started < 1


def test_perceptual_hash_matches_resaved_copy_not_other_photo(camera_jpeg):
    original = process_photo(camera_jpeg)
    smaller = _scene(1, (1600, 1200)).resize((800, 600), Image.Resampling.LANCZOS)
    resaved = process_photo(_encode(smaller, "JPEG", quality=60))
    other = process_photo(_encode(_scene(2, (1600, 1200)), "JPEG", quality=90))
    assert resaved.sha256 != original.sha256
    assert perceptual_distance(original.phash, resaved.phash) <= 6
    assert perceptual_distance(original.phash, other.phash) > 12
    assert perceptual_distance(original.phash, original.phash) == 0
    assert type(perceptual_distance(original.phash, other.phash)) is int


@pytest.mark.parametrize(("size", "refused"), [((200, 200), False), ((4000, 199), True)])
def test_evidence_has_a_shortest_side(size, refused):
    """The shortest side is read from the header; the message names the size and the minimum."""
    data = _encode(Image.new("RGB", size, "white"), "PNG")
    if refused:
        with pytest.raises(PhotoRejected, match=r"4000 × 199 piksel.*paling sedikit 200 piksel"):
            check_photo(data, min_side=200)
    else:
        assert check_photo(data, min_side=200).size == size
