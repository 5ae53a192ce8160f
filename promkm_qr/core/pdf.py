"""The one way printables (printables/<name>/template.html + style.css) become PDF bytes.

As in Indico, templates run in a sandboxed Jinja environment fed plain data only, and
WeasyPrint may read nothing but ``data:`` URIs, files under the printables folder and the
packaged fonts: a stall name typed by a merchant or a slip in a template cannot pull local
files or network resources into a PDF.
"""

import atexit
import gc
import io
import os
import re
import threading
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import date
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
import pydyf
from jinja2.sandbox import SandboxedEnvironment
from weasyprint import CSS, HTML
from weasyprint.css import ColorProfile
from weasyprint.document import Document, Page
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from promkm_qr import tuning
from promkm_qr.core.money import format_rupiah
from promkm_qr.core.pdf_deflate import Deflater
from promkm_qr.core.pdf_footer import with_footers
from promkm_qr.core.pdf_forms import Placement, RecordedPage, draw_forms, qr_marks, slot_placements
from promkm_qr.core.qr import qr_data_uri

PRINTABLES_ROOT = Path(__file__).resolve().parents[2] / "printables"
BASE_CSS = PRINTABLES_ROOT / "_base" / "base.css"
FONTS_ROOT = Path("/usr/share/fonts")

# Measured on the 2-core machine with WeasyPrint 70 (bench/printables.py, CPU per poster): a
# poster costs 21 ms as its own document and 6.2 ms as one page of a 120-stall document over
# a shared background (see render_pdf). A fresh font configuration and stylesheets per
# document would add ~40 ms.
# Uncompressed streams save ~2 ms on text-only pages but double the size (4x for QR posters),
# so streams stay compressed; font subsetting (full_fonts off) is what keeps a document at
# ~7 kB instead of ~600 kB and ~100 ms. Image optimisation and tagging only add time to
# documents that are printed; the official documents the city archives are PDF/A (ARCHIVAL).
PDF_OPTIONS = {
    "pdf_variant": None,
    "pdf_tags": False,
    "uncompressed_pdf": False,
    "optimize_images": False,
    "full_fonts": False,
    "hinting": False,
    "presentational_hints": False,
}
# PDF/A-3b: XMP metadata naming the part and conformance, an output intent, a file identifier;
# every font is embedded anyway. The output intent is the sRGB profile WeasyPrint ships, parsed
# once per renderer: WeasyPrint's own ("output_intent": "srgb", which the variant implies unless
# told otherwise) opens the profile's file for every PDF and leaves it open.
ARCHIVAL = {**PDF_OPTIONS, "pdf_variant": "pdf/a-3b", "output_intent": False}
SRGB_PROFILE = files("weasyprint.pdf") / "sRGB2014.icc"

# Letterheads differ per kind and month: a batch needs a handful, a bound keeps it at that.
_LETTERHEADS_KEPT = 16

tuning.share_font_subsets()

# Lowercase folder names only; "_base" and other underscore folders are not printables.
_PRINTABLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PLAIN_SCALARS = (str, int, float, bool, date, type(None))


class FetchRefused(ValueError):
    """A printable asked WeasyPrint for a resource it may not read."""


class PrintableFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves only data: URIs and files in the allowed folders."""

    def __init__(self, allowed_dirs: Iterable[Path]) -> None:
        """Allow files under the given folders (symlinks resolved) and data: URIs, nothing else."""
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
        self.allowed_dirs = tuple(Path(folder).resolve() for folder in allowed_dirs)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Fetch the URL if it is allowed, otherwise raise FetchRefused."""
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            # Resolving first defeats "..", percent-encoded dots and symlinks out of a folder.
            path = Path(url2pathname(parts.path)).resolve()
            allowed = any(path.is_relative_to(folder) for folder in self.allowed_dirs)
            if parts.netloc in ("", "localhost") and allowed and path.is_file():
                return super().fetch(path.as_uri(), headers)
        # WeasyPrint logs the refusal and leaves the resource out; the page still renders.
        raise FetchRefused(f"Printables may not load {url[:100]!r}")


def _check_plain(value: object, where: str = "context") -> None:
    """Raise TypeError unless the value is made only of dicts, lists and plain scalars."""
    # Plain data keeps printables pure functions of their input, like Indico's: no ORM objects
    # whose attributes could lazy-load, or whose methods the template could call.
    if isinstance(value, _PLAIN_SCALARS):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            _check_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
    else:
        raise TypeError(f"{where} is a {type(value).__name__}; printables take plain data only")


class Renderer:
    """Sandboxed Jinja plus WeasyPrint state shared by every printable rendered in a process."""

    def __init__(self, root: Path = PRINTABLES_ROOT, *, base_css: Path = BASE_CSS) -> None:
        """Set up the Jinja sandbox, the URL fetcher and one font configuration for the root."""
        self.root = Path(root).resolve()
        self.base_css = Path(base_css).resolve()
        self.fetcher = PrintableFetcher([self.root, self.base_css.parent, FONTS_ROOT])
        # One FontConfiguration for all documents: each one holds a fontconfig state and a
        # temporary folder of font copies that are only freed with it, and building one and
        # loading the @font-face fonts into it costs ~50 ms, more than a whole document.
        self.font_config = FontConfiguration()
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(self.root),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["rupiah"] = format_rupiah
        self.env.filters["qr_data_uri"] = qr_data_uri
        self._stylesheet_cache: dict[Path, tuple[int, CSS]] = {}
        self._letterheads: dict[tuple[str, str], list[Page]] = {}
        self._deflater = Deflater()
        self._srgb = ColorProfile(
            io.BytesIO(SRGB_PROFILE.read_bytes()),
            "sRGB2014.icc",
            "relative-colorimetric",
            (["r"], ["g"], ["b"]),
        )
        # Pango font maps and WeasyPrint's font caches are not thread-safe, so documents
        # sharing this font configuration are laid out one at a time.
        self._lock = threading.Lock()

    def _stylesheet(self, path: Path) -> CSS:
        """Return the parsed stylesheet, parsed again only when the file changed on disk."""
        mtime = path.stat().st_mtime_ns
        cached = self._stylesheet_cache.get(path)
        if cached is None or cached[0] != mtime:
            css = CSS(filename=path, url_fetcher=self.fetcher, font_config=self.font_config)
            cached = self._stylesheet_cache[path] = (mtime, css)
        return cached[1]

    def _stylesheets(self, name: str) -> list[CSS]:
        """Return the shared base stylesheet followed by the printable's own, if it has one."""
        sheets = [self._stylesheet(self.base_css)]
        own = self.root / name / "style.css"
        if own.is_file():
            sheets.append(self._stylesheet(own))
        return sheets

    def _document(
        self,
        name: str,
        template: str = "",
        context: Mapping | None = None,
        cache: dict | None = None,
        *,
        html: str = "",
    ) -> Document:
        """Lay out one template of a printable with a context (or HTML rendered from one)."""
        if not _PRINTABLE_NAME.fullmatch(name):
            raise ValueError(f"Not a printable name: {name!r}")
        if not html:
            _check_plain(context)
            html = self.env.get_template(f"{name}/{template}").render(context)
        source = HTML(
            string=html,
            base_url=(self.root / name).as_uri() + "/",
            url_fetcher=self.fetcher,
        )
        return source.render(
            font_config=self.font_config,
            stylesheets=self._stylesheets(name),
            cache={} if cache is None else cache,
            **PDF_OPTIONS,
        )

    def render_pdf(self, name: str, context: Mapping, *, archival: bool = False) -> bytes:
        """Render the printable with the given plain-data context to PDF bytes."""
        return self.render_pdf_pages(name, context, archival=archival)[0]

    def render_pdf_pages(
        self, name: str, context: Mapping, *, archival: bool = False
    ) -> tuple[bytes, int]:
        """Render the printable to PDF bytes, with the page count of its layout.

        An archival document is written as PDF/A-3b (ARCHIVAL), posters and cards as plain PDF.

        Static parts are laid out once and drawn as shared forms (core/pdf_forms.py). A
        printable's ``background.html`` (posters, cards) is drawn beneath every page of
        ``template.html``: a chunk of 120 posters lays out and stores its static text once
        instead of 120 times. A ``letterhead.html`` (the kop, title and signature block of the
        monthly documents) has its first page drawn beneath the document's first page and its
        other pages' forms drawn into the document's slots; its layout is kept for the next
        documents whose letterhead reads the same, so a batch lays it out once.
        """
        with self._lock, _cyclic_gc_paused():
            return self._write(name, context, archival)

    def _write(self, name: str, context: Mapping, archival: bool) -> tuple[bytes, int]:
        """Lay out and write the printable with its background or letterhead forms, if any."""
        cache: dict = {}  # images (a logo) decoded once per call
        document = self._document(name, "template.html", context, cache)
        pages = with_footers(document.pages)
        folder = self.root / name
        if (folder / "background.html").is_file():
            forms = self._document(name, "background.html", context, cache).pages[:1]
            placements = [Placement(0, number) for number in range(len(pages))]
        elif (folder / "letterhead.html").is_file():
            forms = self._letterhead(name, context)
            placements = [Placement(0, 0), *slot_placements(forms[1:], pages, first_form=1)]
        else:
            forms, placements = [], []
        marks = qr_marks(pages)

        def finish(written: Document, pdf: pydyf.PDF) -> None:
            """Draw the forms and marks; deflate an archival file's streams once."""
            if forms or marks:
                draw_forms(written, pdf, forms=len(forms), placements=placements, marks=marks)
            if archival:
                self._deflater.deflate_once(pdf)

        output = document.copy([*forms, *pages])
        if archival:
            output.color_profiles["srgb"], output.output_intent = self._srgb, "srgb"
        options = ARCHIVAL if archival else PDF_OPTIONS
        return output.write_pdf(finisher=finish, **options), len(pages)

    def _letterhead(self, name: str, context: Mapping) -> list[Page]:
        """The laid-out letterhead pages, reused while their rendered HTML stays the same."""
        html = self.env.get_template(f"{name}/letterhead.html").render(context)
        key = (name, html)
        pages = self._letterheads.get(key)
        if pages is None:
            if len(self._letterheads) >= _LETTERHEADS_KEPT:
                self._letterheads.clear()  # a new batch (another month, other branding)
            laid_out = self._document(name, html=html).pages
            pages = self._letterheads[key] = [RecordedPage(page) for page in laid_out]
        return pages


@contextmanager
def _cyclic_gc_paused():
    """Pause the cyclic garbage collector while a document is laid out.

    Layout allocates hundreds of thousands of boxes and style dicts that all stay alive until
    the PDF is written, so the collections Python starts meanwhile find nothing to free:
    7.2 ms a poster with them, 6.2 ms without (bench/printables.py). Once the document is
    unreachable, one collection of the young generations frees its cycles; left to later
    collections, part of them reached the oldest generation and a worker grew ~10 MB over
    100 chunks (bench/posters.py, chunk_rss_mb), 2-4 MB with this.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)


_renderers: dict[Path, Renderer] = {}
_renderers_lock = threading.Lock()


def get_renderer(root: Path | str | None = None) -> Renderer:
    """Return this process's renderer for the printables root, creating it on first use."""
    key = Path(root or PRINTABLES_ROOT).resolve()
    with _renderers_lock:
        if key not in _renderers:
            _renderers[key] = Renderer(key)
        return _renderers[key]


def _forget_renderers_after_fork() -> None:
    """Give a forked child (Celery prefork, gunicorn) its own renderers and locks."""
    global _renderers_lock
    for renderer in _renderers.values():
        # The parent still uses these font copies; without this, the child's garbage
        # collection would run FontConfiguration.__del__ and delete the parent's folder.
        tuning.detach_font_folder(renderer.font_config)
    _renderers.clear()
    _renderers_lock = threading.Lock()


def _release_renderers_at_exit() -> None:
    """Free the renderers while WeasyPrint's native libraries are still loaded."""
    # The fork hook keeps this module's globals alive until the interpreter's very last
    # garbage collection, after cffi has unloaded Pango; freeing the font map then segfaults.
    _renderers.clear()


os.register_at_fork(after_in_child=_forget_renderers_after_fork)
atexit.register(_release_renderers_at_exit)


def render_pdf(name: str, context: Mapping, *, root: Path | str | None = None) -> bytes:
    """Render printables/<name>/template.html with a plain-data context to PDF bytes."""
    return get_renderer(root).render_pdf(name, context)


def render_pdf_pages(
    name: str, context: Mapping, *, root: Path | str | None = None, archival: bool = False
) -> tuple[bytes, int]:
    """Like render_pdf, with the page count of the layout."""
    return get_renderer(root).render_pdf_pages(name, context, archival=archival)
