"""Each piece of promkm_qr/tuning.py against the installed libraries: an upgrade that changes
what one relies on fails here instead of silently slowing the workers or spoiling a PDF."""

import base64
import ctypes
import ctypes.util
import gc
import platform
import queue
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import event
from sqlalchemy.engine import Engine
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import PageBox
from weasyprint.text.fonts import FontConfiguration

import promkm_qr.tasks  # noqa: F401 (applies the broker's tuning, as the worker does)
from promkm_qr import tuning

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core
# A 1x1 PNG, so the page draws an image.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cf000000030101005e0e2b4a0000000049454e44ae426082"
    )
).decode()


def test_the_embedded_broker_is_polled_four_times_a_second(tmp_path):
    polls = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "kombu_message" in statement:
            polls.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        with Connection(f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}") as connection:
            assert connection.transport.polling_interval == tuning.EMBEDDED_BROKER_POLL_SECONDS
            waiting = connection.SimpleQueue("tuning")
            polls.clear()
            with pytest.raises(queue.Empty):
                waiting.get(timeout=1.0)
            waiting.close()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    # kombu's default (1 s) polls once or twice in a second; 0.25 s four or five times.
    assert len(polls) >= 3, polls


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds_and_keeps_a_photos_buffers_off_mmap():
    assert tuning.keep_freed_memory()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = _MallInfo2
    mapped = libc.mallinfo2().hblkhd
    buffer = libc.malloc(20 << 20)  # a photo's buffers: below the 32 MB threshold
    try:
        # Served from the heap, kept after free, not mapped and unmapped for every photo.
        assert libc.mallinfo2().hblkhd == mapped
    finally:
        libc.free(buffer)


def test_frozen_objects_are_out_of_the_collectors_reach():
    marker = [[]]
    tuning.freeze_imported_objects()
    try:
        assert gc.get_freeze_count() > 0
        assert not any(o is marker for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is marker for o in gc.get_objects())


def _page():
    html = (
        '<p style="opacity: .5">Pecel Bu Wiwik</p>'
        f'<img src="data:image/png;base64,{PIXEL}" style="width: 4px">'
    )
    return HTML(string=html).render()


def test_a_laid_out_page_has_its_page_box():
    box = tuning.page_box(_page().pages[0])
    assert isinstance(box, PageBox)
    assert box.children[0].element.tag == "html"
    assert box.margin_left > 0
    assert any(getattr(b, "element_tag", None) == "img" for b in box.descendants())


def test_a_paint_registers_fonts_opacity_and_images_where_shared_forms_read_them():
    document = _page()
    painted = []

    class Watched:
        """The page, noting the stream WeasyPrint paints it into."""

        def __init__(self, page):
            self.page = page

        def __getattr__(self, name):
            return getattr(self.page, name)

        def paint(self, stream, scale=1):
            painted.append(stream)
            self.page.paint(stream, scale)

    document.pages[0] = Watched(document.pages[0])
    document.write_pdf()
    [stream] = painted
    assert tuning.stream_fonts(stream)
    states = tuning.stream_resources(stream)["ExtGState"]
    assert any(key[:1] in "aA" for key in states)
    assert "ColorSpace" in tuning.stream_resources(stream)
    assert tuning.stream_images(stream)
    resources, fonts, images = {"ExtGState": {}}, {}, {}
    clone = stream.clone(fonts=fonts, resources=resources, images=images, compress=False)
    assert tuning.stream_resources(clone) is resources
    assert tuning.stream_fonts(clone) is fonts and tuning.stream_images(clone) is images


@pytest.mark.skipif(not DEJAVU.exists(), reason="fonts-dejavu-core is not installed")
def test_a_detached_font_configuration_leaves_its_font_copies_alone():
    folders = {}
    for detached in (False, True):
        config = FontConfiguration()
        CSS(string=f"@font-face {{ font-family: T; src: url({DEJAVU.as_uri()}) }}",
            font_config=config)  # fmt: skip
        folders[detached] = Path(config._folder)
        assert folders[detached].is_dir()
        if detached:
            tuning.detach_font_folder(config)
        del config
        gc.collect()
    assert not folders[False].exists()  # collecting a configuration deletes its copies
    assert folders[True].is_dir()
    for copy in folders[True].iterdir():
        copy.unlink()
    folders[True].rmdir()


@pytest.mark.skipif(not DEJAVU.exists(), reason="fonts-dejavu-core is not installed")
def test_documents_with_the_same_glyphs_but_ascii_share_one_font_subset():
    import io

    import pikepdf
    from fontTools.ttLib import TTFont

    tuning.share_font_subsets()
    config = FontConfiguration()
    face = f"@font-face {{ font-family: T; src: url({DEJAVU.as_uri()}) }}"
    css = CSS(string=f"{face} p {{ font-family: T }}", font_config=config)

    def font_program(text: str) -> bytes:
        pdf = HTML(string=f"<p>{text}</p>").write_pdf(stylesheets=[css], font_config=config)
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            [font] = doc.pages[0].Resources.Font.values()
            return font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()

    def drawn(program: bytes, character: str) -> bool:
        font = TTFont(io.BytesIO(program))
        name = font.getBestCmap().get(ord(character))
        return name is not None and font["glyf"][name].numberOfContours != 0

    sari, budi = font_program("Warung Bu Sari 12"), font_program("Toko Pak Budi 7")
    assert sari == budi  # one subset made, reused
    assert drawn(sari, "Z") and drawn(sari, "~")  # every printable ASCII glyph is in it
    accented = font_program("Warung Bu Sarí")
    assert accented != sari and drawn(accented, "í") and not drawn(sari, "í")
