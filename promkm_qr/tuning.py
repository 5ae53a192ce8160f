"""Process tuning and the library internals the app relies on, in one place.

Each piece reaches past a library's public API (kombu's polling class attribute, glibc's
mallopt parameter numbers, CPython's permanent generation, WeasyPrint's private attributes),
so an upgrade can change it without an error: the workers would only get slower, or a PDF
lose its letterhead. `tests/test_tuning.py` checks each piece against the installed
libraries, so such an upgrade fails a test instead.
"""

import ctypes
import ctypes.util
import gc
import io

from fontTools.ttLib import TTFont
from kombu.transport import sqlalchemy as embedded_broker
from weasyprint.pdf.fonts import Font

# The embedded (SQLite) broker is polled. At kombu's default of 1 s a pool process that
# finishes a task waits half a second on average for its next one; every poll costs the
# worker CPU, so not much less than this (at 0.1 s a poster batch spent ~10 % more CPU on
# polling than it saved in waiting).
EMBEDDED_BROKER_POLL_SECONDS = 0.25

# Font subsets: every glyph of printable ASCII goes into each one, and a bound on the subsets
# kept (a handful of fonts times the few glyph sets of a batch).
SUBSET_PADDING = "".join(map(chr, range(0x20, 0x7F)))
SUBSETS_KEPT = 256

# glibc's mallopt() parameter numbers (malloc.h) and the values set.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES = 32 << 20, 64 << 20


def tune_embedded_broker() -> None:
    """Poll the embedded broker every 0.25 s.

    That transport passes its options to create_engine, so the interval is set on the
    class, whose instances read it when no `polling_interval` option is given.
    """
    embedded_broker.Transport.polling_interval = EMBEDDED_BROKER_POLL_SECONDS


def keep_freed_memory() -> bool:
    """Fixed malloc thresholds: keep up to 64 MB freed for the next task. True if glibc
    took both (mallopt returns 1); anything else (another libc) leaves malloc as it is.

    A photo needs ~20 MB of buffers. With glibc's self-tuning thresholds, once SciPy's FFT
    module was loaded (imagehash.phash imports it) every task gave them back to the kernel
    and faulted them in again: ~4,600 page faults and ~10 ms of CPU per photo.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mmap = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        trim = libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    except (OSError, AttributeError, TypeError):
        return False
    return mmap == 1 and trim == 1


def freeze_imported_objects() -> None:
    """Keep the cyclic collector away from everything loaded so far (gc.freeze).

    Laying out a PDF allocates enough objects to trigger a full collection every few
    documents, and each one rescanned the whole app (modules, SQLAlchemy, WeasyPrint):
    17-18 % of a receipt's or recap's CPU time, 7 % once those objects are frozen. Frozen
    pages shared with a forked parent also stay shared instead of being copied.
    """
    gc.freeze()


# WeasyPrint's private attributes. Page._page_box is the laid-out page box (footer and
# slot positions); a PDF Stream's _resources, _fonts and _images are the dictionaries
# its drawing registers into (shared forms record and replay a paint); a
# FontConfiguration's _folder is the directory of font copies its __del__ removes.


def page_box(page):
    """The root box of a laid-out WeasyPrint page."""
    return page._page_box


def stream_resources(stream) -> dict:
    """The resource dictionaries (ExtGState, ColorSpace, XObject...) a stream draws with."""
    return stream._resources


def stream_fonts(stream) -> dict:
    """The fonts a stream's text registered, by key."""
    return stream._fonts


def stream_images(stream) -> dict:
    """The images a stream drew, by name."""
    return stream._images


def detach_font_folder(font_config) -> None:
    """Make a FontConfiguration forget its folder of font copies, so that collecting it
    (in a forked child that shares it with its parent) does not delete the parent's files."""
    font_config._folder = None


# WeasyPrint's Font.subset (weasyprint/pdf/fonts.py) cuts a document's font file down to the
# glyph ids it is given (its keys), and its file_content is the font file before and after.
_subsets: dict[tuple, bytes] = {}
_faces: dict[tuple, tuple[bytes, frozenset[int]]] = {}  # font file -> (its bytes, padding)


def share_font_subsets() -> None:
    """Subset fonts to the glyphs a document uses plus those of printable ASCII, and reuse
    each subset for every document that asks for the same glyphs.

    WeasyPrint subsets every font of every PDF with HarfBuzz, twice: 2.6 ms of a 25-40 ms
    recap or receipt. Padded with the ASCII glyphs, nearly every document of a batch asks
    for the same set (560 of 564 font subsets of 250 recaps and receipts were reused), so a
    process makes each subset once, and core/pdf.py deflates its bytes once too. A document
    grows by ~5 kB (20 to 25 kB). The glyphs no text shows stay out of the widths and the
    ToUnicode map, which WeasyPrint builds from the used glyphs only; PDF/A allows a subset
    to hold more glyphs than the file shows.
    """
    if getattr(Font.subset, "shared", False):
        return
    subset_one = Font.subset

    def subset(font, to_unicode, hinting):
        """Font.subset, padded and remembered."""
        face = (font.hash, font.index, len(font.file_content))
        padding = _padding(face, font.file_content) if to_unicode else None
        if padding is None:
            return subset_one(font, to_unicode, hinting)
        glyphs = padding | frozenset(to_unicode)
        key = (face, glyphs, bool(hinting), tuple(sorted(font.missing.items())))
        made = _subsets.get(key)
        if made is None:
            subset_one(font, dict.fromkeys(glyphs), hinting)
            if len(_subsets) >= SUBSETS_KEPT:
                _subsets.clear()
            made = _subsets[key] = font.file_content
        font.file_content = made

    subset.shared = True
    Font.subset = subset


def _padding(face: tuple, content: bytes) -> frozenset[int] | None:
    """The glyph ids of printable ASCII in a font file, read once per file; None for a
    file other than the one first seen under the same name and size (not shared then)."""
    known = _faces.get(face)
    if known is None:
        font = TTFont(io.BytesIO(content), fontNumber=face[1], lazy=True)
        cmap = font.getBestCmap() or {}
        names = [cmap[ord(c)] for c in SUBSET_PADDING if ord(c) in cmap]
        known = _faces[face] = (content, frozenset(font.getGlyphID(name) for name in names))
    # Comparing the bytes costs microseconds; hashing them (crc32) took ~0.4 ms a document.
    return known[1] if known[0] == content else None
