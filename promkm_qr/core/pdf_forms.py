"""Shared forms: static parts laid out once and drawn into many pages as PDF form XObjects.

Variable-data printing: a poster's instructions, a document's letterhead and its signature
block read the same on every copy, so they are laid out once and drawn as one shared form
wherever they belong instead of being laid out again on every page. A form is a page of its
own (a background or a letterhead page); it is drawn beneath a target page, either as is or
moved onto a slot: an element with ``data-form="name"`` in the template, matched by name with
the element of the same ``data-form`` on the form page. Both are laid out with the same
stylesheets, so the form lands on the slot's box.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pydyf
from weasyprint.document import Document, Page
from weasyprint.formatting_structure.boxes import Box

from promkm_qr import tuning
from promkm_qr.core.qr import qr_pdf_path

PT_PER_PX = 0.75  # WeasyPrint lays out in CSS px and writes PDF points


@dataclass(frozen=True)
class Placement:
    """Draw form number `form` beneath target page `page`, moved by (dx, dy) CSS px."""

    form: int
    page: int
    dx: float = 0.0
    dy: float = 0.0


class RecordedPage:
    """A laid-out page that is painted once and then replayed into later documents.

    Painting walks the page's boxes and shapes its text again for every PDF it goes into: for
    a monthly document's letterhead and closing form, 3 ms of a 40 ms short recap
    (bench/documents.py: 36.7 ms replayed, 39.7 ms painted). The first
    paint goes into a scratch stream and keeps the drawing operators and, per font, the
    glyphs they show; each paint after that appends the operators and registers the glyphs,
    so the document's font subsets still carry them (WeasyPrint subsets fonts keeping glyph
    ids, which the operators name). A page that needs more than fonts and plain opacity
    (images, gradients, masks) is painted normally every time.
    """

    def __init__(self, page: Page) -> None:
        """Wrap a laid-out page; everything but paint is the page's own."""
        self._page = page
        self._recording: tuple | None = None  # (scale, operators, fonts, states)
        self._replayable = True

    def __getattr__(self, name: str):
        """Links, anchors, sizes and boxes come from the wrapped page."""
        return getattr(self._page, name)

    def paint(self, stream, scale: float = 1) -> None:
        """Draw the page into a WeasyPrint PDF stream."""
        if self._replayable and (self._recording is None or self._recording[0] != scale):
            self._record(stream, scale)
        if not self._replayable:
            self._page.paint(stream, scale)
            return
        _scale, operators, fonts, states = self._recording
        for pango_font, widths, to_unicode in fonts:
            font, _size = stream.add_font(pango_font)
            font.widths.update(widths)
            font.to_unicode.update(to_unicode)
        tuning.stream_resources(stream)["ExtGState"].update(states)
        stream.stream.extend(operators)

    def _record(self, stream, scale: float) -> None:
        """Paint into a scratch stream and keep what a replay needs, if it can be replayed."""
        resources = pydyf.Dictionary(
            {kind: pydyf.Dictionary() for kind in ("ExtGState", "XObject", "Pattern", "Shading")}
        )
        resources["ColorSpace"] = tuning.stream_resources(stream)["ColorSpace"]
        scratch = stream.clone(fonts={}, resources=resources, images={}, compress=False)
        pango_fonts = {}
        add_font = scratch.add_font

        def add_font_noting(pango_font):
            font, size = add_font(pango_font)
            pango_fonts[id(font)] = pango_font
            return font, size

        # The Pango fonts stay alive with the page: its text boxes keep their Pango layouts.
        scratch.add_font = add_font_noting
        self._page.paint(scratch, scale)
        states = resources["ExtGState"]
        plain = all(key[:1] in "aA" for key in states) and not tuning.stream_images(
            scratch
        )  # opacity
        if not plain or any(resources[kind] for kind in ("XObject", "Pattern", "Shading")):
            self._replayable = False
            return
        fonts = [
            (pango_fonts[id(font)], dict(font.widths), dict(font.to_unicode))
            for font in tuning.stream_fonts(scratch).values()
        ]
        self._recording = (scale, list(scratch.stream), fonts, dict(states))


def marked_boxes(page: Page, attribute: str) -> Iterator[tuple[str, Box]]:
    """(value, box) of each element carrying the attribute on a laid-out page."""
    seen = set()
    for box in tuning.page_box(page).descendants(placeholders=True):
        element = getattr(box, "element", None)
        value = element.get(attribute) if element is not None else None
        # The first box of an element in document order is its own, not an anonymous child's.
        if value and id(element) not in seen:
            seen.add(id(element))
            yield value, box


def slots(page: Page) -> Iterator[tuple[str, float, float]]:
    """(name, x, y) of each element with a data-form attribute on a laid-out page."""
    for name, box in marked_boxes(page, "data-form"):
        yield name, box.border_box_x(), box.border_box_y()


def qr_marks(pages: Iterable[Page]) -> list[tuple[int, bytes]]:
    """(page, drawing) of the QR code of each element with a data-qr attribute, filling its box.

    The template lays out an empty square; the code is drawn into it as a vector path after
    layout, instead of an image WeasyPrint would decode and embed.
    """
    marks = []
    for number, page in enumerate(pages):
        for text, box in marked_boxes(page, "data-qr"):
            x, y = box.content_box_x() * PT_PER_PX, box.content_box_y() * PT_PER_PX
            size = min(box.width, box.height) * PT_PER_PX
            marks.append((number, qr_pdf_path(text, x, page.height * PT_PER_PX - y, size)))
    return marks


def slot_placements(forms: list[Page], pages: Iterable[Page], first_form: int = 0):
    """Placements moving each form page's data-form element onto the pages' same-named slots."""
    origins = {name: (i, x, y) for i, form in enumerate(forms) for name, x, y in slots(form)}
    placements = []
    for number, page in enumerate(pages):
        for name, x, y in slots(page):
            if name not in origins:
                # An empty slot would print, say, a document without its signature block.
                raise ValueError(f"No form named {name!r} for the slot on page {number + 1}")
            form, form_x, form_y = origins[name]
            placements.append(Placement(first_form + form, number, x - form_x, y - form_y))
    return placements


def draw_forms(
    _document: Document,
    pdf: pydyf.PDF,
    *,
    forms: int,
    placements: list[Placement],
    marks: Iterable[tuple[int, bytes]] = (),
):
    """WeasyPrint finisher: the first `forms` pages become forms drawn by the placements.

    Placement and mark pages count from the first page after the forms; marks (drawing
    operators) go over a page's content. WeasyPrint gives every page one shared resources
    dictionary; the forms get a copy of it made before they are named in it, so that no form
    refers to itself.
    """
    objects, kids = pdf.objects, pdf.pages["Kids"]  # kids: flat [number, 0, "R", ...]
    form_pages = [objects[number] for number in kids[: 3 * forms : 3]]
    del kids[: 3 * forms]
    pdf.pages["Count"] -= forms
    targets = [objects[number] for number in kids[::3]]
    boxes = _make_forms(pdf, form_pages) if form_pages else []
    for placement in placements:
        target = targets[placement.page]
        if _rounded(target["MediaBox"]) != boxes[placement.form]:
            raise ValueError("A shared form and the page it is drawn on must have the same size")
        # PDF's y axis points up: a slot lower on the page moves the form down.
        move = f"1 0 0 1 {placement.dx * PT_PER_PX:.3f} {-placement.dy * PT_PER_PX:.3f} cm"
        draw = pydyf.Stream([f"q {move} /Form{placement.form} Do Q".encode()])
        pdf.add_object(draw)
        target["Contents"] = pydyf.Array([draw.reference, *_contents(target)])
    if marks:
        # A page's own content leaves WeasyPrint's flipped, scaled matrix in effect: save the
        # graphics state around it so marks are drawn in the page's default coordinates.
        save, restore = pydyf.Stream([b"q"]), pydyf.Stream([b"Q"])
        pdf.add_object(save)
        pdf.add_object(restore)
    by_page: dict[int, list[bytes]] = {}
    for page, drawing in marks:
        by_page.setdefault(page, []).append(drawing)
    for page, drawings in by_page.items():
        mark = pydyf.Stream(drawings, compress=True)
        pdf.add_object(mark)
        own = [save.reference, *_contents(targets[page]), restore.reference]
        targets[page]["Contents"] = pydyf.Array([*own, mark.reference])


def _make_forms(pdf: pydyf.PDF, form_pages: list) -> list[list[float]]:
    """Turn the pages into form XObjects named Form0, Form1, ...; returns their page boxes."""

    def number(reference: bytes) -> int:
        return int(reference.split()[0])

    resources = pdf.objects[number(form_pages[0]["Resources"])]
    form_resources = pydyf.Dictionary(resources)
    form_resources["XObject"] = pydyf.Dictionary(resources["XObject"])
    pdf.add_object(form_resources)
    boxes = []
    for index, page in enumerate(form_pages):
        form = pdf.objects[number(page["Contents"])]
        form.extra.update(
            {
                "Type": "/XObject",
                "Subtype": "/Form",
                "BBox": page["MediaBox"],
                "Resources": form_resources.reference,
            }
        )
        resources["XObject"][f"Form{index}"] = form.reference
        boxes.append(_rounded(page["MediaBox"]))
        page.clear()  # no longer a page: left as an empty dictionary
    return boxes


def _contents(page) -> list:
    """A page's content stream references, as a list."""
    contents = page["Contents"]
    return list(contents) if isinstance(contents, pydyf.Array) else [contents]


def _rounded(box) -> list[float]:
    """A PDF box's coordinates to a hundredth of a point: page sizes are sums of lengths."""
    return [round(float(value), 2) for value in box]
