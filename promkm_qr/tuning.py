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

from kombu.transport import sqlalchemy as embedded_broker

# The embedded (SQLite) broker is polled. At kombu's default of 1 s a pool process that
# finishes a task waits half a second on average for its next one; every poll costs the
# worker CPU, so not much less than this (at 0.1 s a poster batch spent ~10 % more CPU on
# polling than it saved in waiting).
EMBEDDED_BROKER_POLL_SECONDS = 0.25

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
