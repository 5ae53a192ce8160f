"""Photo evidence for the rules tests, created directly with the models."""

import io
import itertools

from PIL import Image

from promkm_qr.core.photos import ProcessedPhoto, process_photo
from promkm_qr.extensions import db
from promkm_qr.models import Evidence
from tests.core.test_photos import _encode, _scene

_seq = itertools.count(1)


def scene_jpeg(seed: int, size: tuple[int, int] = (800, 600), quality: int = 90) -> bytes:
    """A photo-like JPEG, different for each seed."""
    return _encode(_scene(seed, size), "JPEG", quality=quality)


def resaved_smaller(jpeg: bytes, scale: float = 0.5, quality: int = 60) -> bytes:
    """The same photo re-saved as a smaller, more compressed JPEG."""
    image = Image.open(io.BytesIO(jpeg))
    small = image.resize((int(image.width * scale), int(image.height * scale)))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def make_evidence(photo: ProcessedPhoto | bytes | None = None, taken_at=None) -> Evidence:
    """Evidence rows with the hashes of a processed photo (a fresh scene by default)."""
    if not isinstance(photo, ProcessedPhoto):
        photo = process_photo(photo or scene_jpeg(next(_seq) + 1000))
    n = next(_seq)
    evidence = Evidence(
        storage_key=f"evidence/{n}.jpg",
        thumb_key=f"evidence/{n}-thumb.jpg",
        sha256=photo.sha256,
        original_sha256=photo.original_sha256,
        phash=photo.phash,
        width=photo.width,
        height=photo.height,
        taken_at=taken_at,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence
