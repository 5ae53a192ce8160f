"""Purchase-evidence photos: checked by content, re-encoded as plain JPEG, fingerprinted.

Uploads come from ASN phones, so the original bytes are never stored or served: the output is
a fresh JPEG without EXIF (no GPS or device details leak to whoever views the evidence), and
the capture time, location and a perceptual hash are extracted first to help spot reused or
borrowed photos.
"""

import hashlib
import io
import math
from dataclasses import dataclass
from datetime import datetime

import imagehash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

THUMB_SIDE = 320
THUMB_QUALITY = 75

# Magic bytes of the accepted formats. Pillow can open many more (PSD, TIFF, EPS...), and
# every extra decoder is attack surface, so only what phones and browsers produce is let in.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)

_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"

MSG_EMPTY = _l("Berkas foto kosong. Silakan unggah ulang foto bukti pembelian.")
MSG_FORMAT = _l("Berkas bukan foto yang didukung. Unggah foto berformat JPEG, PNG, atau WebP.")
MSG_TOO_MANY_PIXELS = _l("Resolusi foto terlalu besar. Unggah foto dengan resolusi lebih kecil.")
MSG_BROKEN = _l("Foto rusak atau tidak lengkap. Silakan ambil dan unggah ulang foto.")


class PhotoRejected(ValueError):
    """An upload that is not an acceptable photo; the message is shown to the user as is."""


@dataclass(frozen=True)
class ProcessedPhoto:
    """A re-encoded photo with its thumbnail and the facts read from the original upload."""

    jpeg: bytes
    thumb_jpeg: bytes
    width: int
    height: int
    sha256: str
    original_sha256: str
    phash: str
    exif_taken_at: datetime | None
    gps: tuple[float, float] | None


def _sniff(data: bytes) -> str:
    """Return the Pillow format name for the bytes' signature, or reject them."""
    for signature, fmt in _SIGNATURES:
        if data.startswith(signature):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise PhotoRejected(MSG_FORMAT)


def _open(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    """Open the image header only and refuse it if it claims too many pixels."""
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    # Pillow's own bomb check fires inside open() for absurd sizes. The warning is caught as
    # an exception only where warnings are errors (tests); elsewhere the size check below
    # refuses it. warnings.catch_warnings() would be simpler but is not thread-safe.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(MSG_TOO_MANY_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected(MSG_FORMAT) from exc
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoRejected(MSG_TOO_MANY_PIXELS)
    return image


def _jpeg_reaches_end(data: bytes) -> bool:
    """Tell whether a JPEG's first image has an end-of-image marker after its scan data."""
    position = 2  # after the start-of-image marker
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
        elif marker == 0xDA:
            # Inside scan data 0xFF is always followed by 0x00 or a restart marker, so an
            # FF D9 after the scan's start is this image's end; EXIF thumbnails (before the
            # scan) are skipped. Searched from the end, where it is: the scan from the start
            # stopped at every 0xFF of the ~300 KB of scan data.
            return data.rfind(b"\xff\xd9", position) != -1
        else:
            position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return False


def _complete(data: bytes, fmt: str) -> bool:
    """Tell whether the file is whole, i.e. not cut off during upload or saving."""
    # Pillow can report truncation itself, but WeasyPrint switches that off process-wide
    # (ImageFile.LOAD_TRUNCATED_IMAGES = True on import) and would pad the photo with grey.
    if fmt == "JPEG":
        return _jpeg_reaches_end(data)
    if fmt == "PNG":
        return data.endswith(_PNG_END)
    return 8 + int.from_bytes(data[4:8], "little") <= len(data)  # WebP: RIFF chunk size


def _taken_at(exif: Image.Exif) -> datetime | None:
    """Return DateTimeOriginal as a naive local datetime, as the camera wrote it."""
    value = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    """Return (latitude, longitude) in decimal degrees from the GPS IFD, or None."""
    info = exif.get_ifd(ExifTags.IFD.GPSInfo)
    try:
        coordinates = []
        for ref_tag, value_tag, negative, limit in (
            (ExifTags.GPS.GPSLatitudeRef, ExifTags.GPS.GPSLatitude, "S", 90),
            (ExifTags.GPS.GPSLongitudeRef, ExifTags.GPS.GPSLongitude, "W", 180),
        ):
            degrees, minutes, seconds = (float(part) for part in info[value_tag])
            value = degrees + minutes / 60 + seconds / 3600
            if str(info[ref_tag]).strip("\x00 ").upper() == negative:
                value = -value
            # Zero denominators come out as NaN; junk must not pass as a location.
            if not math.isfinite(value) or abs(value) > limit:
                return None
            coordinates.append(round(value, 7))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return coordinates[0], coordinates[1]


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """Return the size scaled down (never up) so that its longer side is at most max_side."""
    scale = min(1.0, max_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _read_exif(image: Image.Image) -> tuple[datetime | None, tuple[float, float] | None]:
    """Return the capture time and GPS position, before the metadata is thrown away."""
    try:
        exif = image.getexif()
        return _taken_at(exif), _gps(exif)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        # Phones and editors write odd EXIF; the photo itself is still good evidence.
        return None, None


def _to_srgb(image: Image.Image) -> Image.Image:
    """Return an RGB image, converted from an embedded colour profile and flattened on white."""
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    if icc:
        # The profile is dropped with the rest of the metadata, so bake it in: phone photos
        # in Display P3 or Adobe RGB would otherwise look washed out.
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile is not worth refusing a photo; keep the raw colours
    return image if image.mode == "RGB" else image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    """Encode as baseline JPEG; nothing but pixels is written (no EXIF, ICC or XMP)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def check_photo(
    data: bytes, *, max_bytes: int = 15_000_000, max_pixels: int = 40_000_000, min_side: int = 0
) -> Image.Image:
    """Run every check that needs no decoding (size, format, completeness, pixel count).

    Cheap enough to answer a web request with, so a bad file is refused while the person
    is still on the form; the returned image has only its header read. min_side is the
    shortest side evidence may have (a 1x1 image shows no purchase); 0 checks nothing.
    """
    if not data:
        raise PhotoRejected(MSG_EMPTY)
    # Checked before anything is decoded, so size alone cannot cost CPU or memory.
    if len(data) > max_bytes:
        raise PhotoRejected(
            _l(
                "Ukuran foto melebihi %(limit)s MB. Silakan unggah foto yang lebih kecil.",
                limit=f"{max_bytes / 1_000_000:g}",
            )
        )
    fmt = _sniff(data)
    if not _complete(data, fmt):
        raise PhotoRejected(MSG_BROKEN)
    image = _open(data, fmt, max_pixels)
    if min(image.size) < min_side:
        raise PhotoRejected(
            _(
                "Foto terlalu kecil (%(width)s × %(height)s piksel): sisi terpendek foto bukti "
                "paling sedikit %(min)s piksel. Ambil ulang foto barang atau nota.",
                width=image.width,
                height=image.height,
                min=min_side,
            )
        )
    return image


def process_photo(
    data: bytes,
    *,
    max_bytes: int = 15_000_000,
    max_pixels: int = 40_000_000,
    max_side: int = 1600,
    quality: int = 82,
) -> ProcessedPhoto:
    """Check an uploaded photo by its content and return it re-encoded with its metadata."""
    image = check_photo(data, max_bytes=max_bytes, max_pixels=max_pixels)
    fmt = image.format
    taken_at, gps = _read_exif(image)
    try:
        if fmt == "JPEG":
            # Lets libjpeg decode at 1/2, 1/4 or 1/8 scale: a 12 MP photo loads about twice
            # as fast in a quarter of the memory. draft() only scales down while both sides
            # stay at least the requested size, so ask for the final size, not a square box.
            image.draft("RGB", _fit(image.size, max_side))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        image = _to_srgb(image)
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected(MSG_BROKEN) from exc

    jpeg = _jpeg(image, quality)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        jpeg=jpeg,
        thumb_jpeg=_jpeg(thumb, THUMB_QUALITY),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(jpeg).hexdigest(),
        original_sha256=hashlib.sha256(data).hexdigest(),
        # phash shrinks to 32x32 anyway; starting from the thumbnail is ~4x cheaper.
        phash=str(imagehash.phash(thumb)),
        exif_taken_at=taken_at,
        gps=gps,
    )


def perceptual_distance(phash_a: str, phash_b: str) -> int:
    """Return the Hamming distance between two phash hex strings (0 means the same picture)."""
    # imagehash returns a numpy integer; plain int keeps it JSON- and database-friendly.
    return int(imagehash.hex_to_hash(phash_a) - imagehash.hex_to_hash(phash_b))
