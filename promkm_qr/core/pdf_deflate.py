"""Deflating a finished PDF's streams once, reusing the bytes of streams every document repeats."""

import zlib

import pydyf
from pydyf import _to_bytes

# Streams that recur from one document to the next: a few per kind and month.
_DEFLATED_KEPT = 64
_DEFLATE_SEEN = 1024


class Deflater:
    """Deflates every stream of a finished file once, reusing the bytes of recurring streams.

    pydyf deflates a stream (level 9) each time it serializes it, and the file identifier
    PDF/A asks for serializes the whole file a second time to hash it: 1.5 ms of a 60 ms
    document. Deflating beforehand, the way pydyf would, writes the same bytes once. The
    streams every document of a batch carries (the letterhead's forms, the colour profile,
    the font subsets tuning.share_font_subsets reuses) are deflated once per process: a
    stream seen a second time keeps its deflated bytes, up to a bound.
    """

    def __init__(self) -> None:
        """Empty: nothing seen or kept yet."""
        self._seen: set[int] = set()
        self._kept: dict[bytes, bytes] = {}

    def deflate_once(self, pdf: pydyf.PDF) -> None:
        """Deflate the file's compressible streams now, marked as deflated."""
        for item in pdf.objects:
            if isinstance(item, pydyf.Stream) and item.compress:
                raw = b"\n".join(_to_bytes(part) for part in item.stream)
                item.stream, item.compress = [self._deflate(raw)], False
                item.extra["Filter"] = "/FlateDecode"

    def _deflate(self, raw: bytes) -> bytes:
        """zlib level 9 of the bytes, reused if they were deflated before and kept."""
        done = self._kept.get(raw)
        if done is not None:
            return done
        done = zlib.compress(raw, 9)
        digest = hash(raw)
        if digest in self._seen:
            if len(self._kept) >= _DEFLATED_KEPT:
                self._kept.clear()
            self._kept[raw] = done
        else:
            if len(self._seen) >= _DEFLATE_SEEN:
                self._seen.clear()
            self._seen.add(digest)
        return done
