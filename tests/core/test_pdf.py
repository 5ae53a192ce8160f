"""Tests for turning printables into PDF bytes: escaping, refused URLs, fonts, page counts."""

import gc
import io
import logging
import os
import re
import subprocess
from pathlib import Path

import jinja2
import pikepdf
import pypdf
import pytest
from fontTools.ttLib import TTFont

from promkm_qr.core import pdf as pdf_module
from promkm_qr.core.pdf import (
    BASE_CSS,
    FetchRefused,
    PrintableFetcher,
    Renderer,
    get_renderer,
    render_pdf,
)
from tests.support.pdf_files import assert_pdfa_3b, pdffonts, unembedded_fonts

ROOT = Path(__file__).parent / "printables_fixture"
HOSTILE_NAME = '<img src="file:///etc/passwd"> & "Warung Bu Sri"'
JAVANESE = "ꦮꦫꦸꦁ"


def _context(name: str = HOSTILE_NAME, total: int = 1_250_000) -> dict:
    """Plain data for the sample printable."""
    return {"stall": {"name": name, "name_jawa": JAVANESE}, "total": total}


def _text(pdf: bytes) -> str:
    """All text of the PDF with whitespace runs collapsed, as pypdf extracts it."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _embedded_fonts(pdf: bytes) -> dict[str, str]:
    """Map each embedded font's PDF name to the PostScript name inside its font program."""
    fonts = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            program = descriptor.get_object()["/FontFile2"].get_object().get_data()
            fonts[str(font["/BaseFont"])] = TTFont(io.BytesIO(program))["name"].getDebugName(6)
    return fonts


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    """The sample printable rendered once for the module with a hostile stall name."""
    return render_pdf("sample", _context(), root=ROOT)


def test_renders_escaped_literal_text(sample_pdf):
    text = _text(sample_pdf)
    assert sample_pdf.startswith(b"%PDF-")
    assert HOSTILE_NAME in text
    assert "Total: Rp1.250.000" in text
    assert "root:" not in text
    assert len(pypdf.PdfReader(io.BytesIO(sample_pdf)).pages) == 1


def test_javanese_script_uses_noto_sans_javanese(sample_pdf):
    assert JAVANESE in _text(sample_pdf)
    programs = set(_embedded_fonts(sample_pdf).values())
    # The fonts come from the @font-face rules in printables/_base/base.css.
    assert {"NotoSansJavanese-Regular", "NotoSans-Regular", "NotoSans-Bold"} <= programs


def test_base_fonts_load_without_warnings(caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        Renderer(ROOT).render_pdf("sample", _context())
    assert not caplog.records


def test_template_cannot_fetch_local_files_or_network(caplog):
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = render_pdf("leaky", {}, root=ROOT)
    refused = " ".join(record.getMessage() for record in caplog.records)
    assert "FetchRefused" in refused
    for url in (
        "file:///etc/passwd",  # <img>, <object>, @import and a relative path climbing out
        "http://example.com/x.png",
        "http://example.com/evil.css",
        "file:///etc/hostname",  # CSS background
        "https://example.com/tracker.png",  # CSS generated content
        "file:///etc/group",  # inline SVG <image>
    ):
        assert url in refused
    text = _text(pdf)
    assert "Sebelum" in text
    assert "Sesudah" in text
    assert "root:" not in text
    # Nothing was fetched, so no image made it into the page.
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert "/XObject" not in page["/Resources"] or not page["/Resources"]["/XObject"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://evil.example/etc/passwd",
        f"{ROOT.as_uri()}/sample/../../../../../../etc/passwd",
        f"{ROOT.as_uri()}/sample/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{ROOT.as_uri()}/sample",
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "gopher://example.com/",
    ],
)
def test_fetcher_refuses(url):
    fetcher = get_renderer(ROOT).fetcher
    with pytest.raises(FetchRefused):
        fetcher(url)


def test_fetcher_serves_data_printables_and_package_fonts():
    fetcher = PrintableFetcher([ROOT, BASE_CSS.parent, Path("/usr/share/fonts")])
    assert fetcher("data:text/plain,halo").read() == b"halo"
    assert b"@page" in fetcher((ROOT / "sample" / "style.css").as_uri()).read()
    assert b"@font-face" in fetcher(BASE_CSS.as_uri()).read()
    font = fetcher("file:///usr/share/fonts/truetype/noto/NotoSansJavanese-Regular.ttf")
    assert font.read(4) in (b"\x00\x01\x00\x00", b"true")


def test_background_is_drawn_once_beneath_every_page():
    names = ["Warung 1", "Warung 2", "Warung 3"]
    pdf = render_pdf("layered", {"names": names, "kop": "<b>&", "page_size": "A6"}, root=ROOT)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    for name, page in zip(names, reader.pages, strict=True):
        text = " ".join(page.extract_text().split())
        assert name in text and "Kop bersama <b>&" in text
        assert sum(n in text for n in names) == 1
    # One shared form, not three copies of the background.
    assert pdf.count(b"/Subtype /Form") == 1


def _word_tops(pdf: bytes, page: int) -> dict[str, float]:
    """Each word on a page and its top edge (points from the top), as poppler's pdftotext reads
    it: pypdf's text positions leave out the matrix a form XObject is drawn with."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    words = re.findall(r'<word xMin="[^"]+" yMin="([^"]+)"[^>]*>([^<]+)</word>', html)
    return {word: float(top) for top, word in words}


def test_letterhead_is_laid_out_once_and_drawn_beneath_the_first_page_only():
    renderer = Renderer(ROOT)
    lines = [f"Baris {i}" for i in range(12)]
    pdf, pages = renderer.render_pdf_pages("lettered", {"lines": lines, "kop": "<b>&"})
    texts = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert len(texts) == pages >= 2
    assert "Kop surat <b>&" in texts[0] and "Baris 0" in texts[0]
    assert not any("Kop surat" in text for text in texts[1:])
    # The footer is drawn after layout, with the page count known (data-footer).
    for number, text in enumerate(texts, start=1):
        assert f"Dokumen (uji) \\ {number}/{pages}" in text
    # The second form is drawn into the slot, which the last line pushed onto the last page:
    # below that line, where it was laid out at the top of its own page.
    assert ["Tanda tangan bersama" in text for text in texts] == [False] * (pages - 1) + [True]
    tops = _word_tops(pdf, pages)
    assert tops["Tanda"] > tops["11"]  # "Baris 11"
    assert pdf.count(b"/Subtype /Form") == 2
    # The next document with the same letterhead reuses its layout; another one lays out anew.
    letterhead = renderer._letterhead("lettered", {"kop": "<b>&"})
    renderer.render_pdf("lettered", {"lines": ["Satu"], "kop": "<b>&"})
    assert renderer._letterhead("lettered", {"kop": "<b>&"}) is letterhead
    other = renderer.render_pdf("lettered", {"lines": ["Satu"], "kop": "Kop lain"})
    assert "Kop surat Kop lain" in pypdf.PdfReader(io.BytesIO(other)).pages[0].extract_text()
    assert renderer._letterhead("lettered", {"kop": "<b>&"}) is letterhead


def _top_strip(pdf: bytes, tmp_path: Path, name: str) -> bytes:
    """The top 20 mm of the first page rasterised (pdftoppm, 100 dpi), as raw grey pixels."""
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-gray",
            "-singlefile",
            "-y",
            "0",
            "-H",
            "79",
            f"{name}.pdf",
            name,
        ],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    return (tmp_path / f"{name}.pgm").read_bytes().split(b"\n", 3)[3]  # after the header


def test_a_replayed_letterhead_draws_the_same_pixels(tmp_path):
    # The second document replays the letterhead painted for the first: its font subsets
    # must carry the glyphs, or the letterhead would print blank.
    renderer = Renderer(ROOT)
    first = renderer.render_pdf("lettered", {"lines": ["Satu"], "kop": "Kota Madiun"})
    second = renderer.render_pdf("lettered", {"lines": ["Dua"], "kop": "Kota Madiun"})
    assert all(page._recording for page in renderer._letterhead("lettered", {"kop": "Kota Madiun"}))
    strips = [_top_strip(pdf, tmp_path, name) for pdf, name in ((first, "a"), (second, "b"))]
    assert strips[0] == strips[1]
    assert min(strips[0]) < 128  # the strip holds dark text, not a blank page


def test_a_slot_without_its_form_is_an_error():
    with pytest.raises(ValueError, match="No form named 'sign'"):
        render_pdf("lettered", {"lines": ["Satu"], "kop": "", "no_form": True}, root=ROOT)


def test_background_must_match_the_page_size():
    with pytest.raises(ValueError, match="must have the same size"):
        render_pdf("layered", {"names": ["Warung"], "kop": "", "page_size": "A5"}, root=ROOT)


def test_renderer_is_cached_per_root():
    assert get_renderer(ROOT) is get_renderer(str(ROOT))
    assert get_renderer(ROOT) is not get_renderer()


@pytest.mark.parametrize("name", ["_base", "../sample", "sample/..", "Sample", ""])
def test_refuses_names_that_are_not_printables(name):
    with pytest.raises(ValueError, match="Not a printable name"):
        render_pdf(name, {}, root=ROOT)


@pytest.mark.parametrize(
    "context",
    [
        {"stall": object()},
        {"stall": {"name": b"bytes"}},
        {"items": [{"amount": 1}, {1, 2}]},
        {"stall": {1: "non-string key"}},
    ],
)
def test_refuses_context_that_is_not_plain_data(context):
    with pytest.raises(TypeError):
        render_pdf("sample", context, root=ROOT)


def test_missing_context_value_is_an_error():
    with pytest.raises(jinja2.UndefinedError, match="name_jawa"):
        render_pdf("sample", {"stall": {"name": "x"}, "total": 1}, root=ROOT)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_its_own_renderer_and_spares_the_parents_fonts():
    # Celery prefork and gunicorn fork workers from a parent that may already have rendered.
    renderer = get_renderer(ROOT)
    renderer.render_pdf("sample", _context())
    font_folder = renderer.font_config._folder
    pid = os.fork()
    if pid == 0:  # child: must leave through os._exit, never back into pytest
        code = 1
        try:
            child = get_renderer(ROOT)
            pdf = child.render_pdf("sample", _context())
            code = 0 if child is not renderer and pdf.startswith(b"%PDF-") else 2
            # Drop the inherited renderer as the child's exit would, then our own.
            del renderer, child
            pdf_module._renderers.clear()
            gc.collect()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert font_folder.is_dir()
    assert get_renderer(ROOT) is renderer
    fonts = set(_embedded_fonts(renderer.render_pdf("sample", _context())).values())
    assert "NotoSansJavanese-Regular" in fonts


def test_footer_is_set_in_a_font_the_file_embeds():
    # The footer was drawn in standard Helvetica, the one font of the file not embedded.
    pdf = Renderer(ROOT).render_pdf("lettered", {"lines": ["Satu"], "kop": "Kota"})
    assert "Dokumen (uji) \\ 1/1" in _text(pdf)
    assert unembedded_fonts(pdf) == []
    assert all(embedded for _name, embedded in pdffonts(pdf)), pdffonts(pdf)


def test_archival_output_is_pdf_a_3b_and_plain_output_is_not():
    renderer = Renderer(ROOT)
    lines = [f"Baris {i}" for i in range(12)]  # two pages, both forms drawn, a footer on each
    pdf = renderer.render_pdf("lettered", {"lines": lines, "kop": "<b>&"}, archival=True)
    assert_pdfa_3b(pdf)
    assert "Dokumen (uji) \\ 2/2" in _text(pdf)
    plain = renderer.render_pdf("lettered", {"lines": lines, "kop": "<b>&"})
    with pikepdf.open(io.BytesIO(plain)) as doc:
        assert "/OutputIntents" not in doc.Root and "/Metadata" not in doc.Root
