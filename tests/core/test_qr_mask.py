"""The numpy mask choice must give exactly the symbol segno itself would make."""

import random
import string
import zlib

import pytest
import segno

from promkm_qr.core import qr_mask

ALPHABETS = {
    "url": string.ascii_letters + string.digits + "/:.-_?=&",
    "numeric": string.digits,
    "alphanumeric": string.digits + string.ascii_uppercase + " $%*+-./:",
    "unicode": "aéêñ中文ꦱꦼꦒ" + string.ascii_lowercase,
}


def _texts(alphabet: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lengths = (1, 7, 17, 33, 64, 90, 150, 300)
    return ["".join(rng.choice(alphabet) for _ in range(rng.choice(lengths))) for _ in range(count)]


@pytest.mark.parametrize("error", ["l", "m", "q", "h"])
@pytest.mark.parametrize("kind", sorted(ALPHABETS))
def test_same_symbol_as_segno(kind, error):
    masks_seen = set()
    for text in _texts(ALPHABETS[kind], 60, seed=zlib.crc32(f"{kind}-{error}".encode())):
        expected = segno.make_qr(text, error=error)
        got = qr_mask.make_qr(text, error)
        assert (got.version, got.error, got.mask) == (
            expected.version,
            expected.error,
            expected.mask,
        )
        assert got.matrix == expected.matrix, text
        masks_seen.add(got.mask)
    # The inputs must exercise the choice, not only mask 0.
    assert len(masks_seen) >= 4


def test_stall_urls_match_segno():
    for number in range(400):
        url = f"https://promkm.madiunkota.go.id/q/3577011001-{number:05d}.1.AbC-dEf_123"
        assert qr_mask.make_qr(url, "m").matrix == segno.make_qr(url, error="m").matrix
