"""The page footer ("No. dokumen ... · Halaman X dari Y"), drawn after layout in the page's font.

Margin boxes with the page count (counter(pages)) make WeasyPrint paginate a second time to
learn it; after layout it is known. The footer text is shaped by Pango with the document's own
font, so its glyphs go into the font subset the page already embeds: a standard PDF font
(Helvetica) would be the one font of the file that is not embedded, which PDF/A forbids and
which every reader replaces with a font of its own.
"""

from tinycss2.color5 import parse_color
from weasyprint.document import Page
from weasyprint.draw.text import draw_first_line
from weasyprint.matrix import Matrix
from weasyprint.text.line_break import create_layout

from promkm_qr import tuning

MM_IN_PX = 96 / 25.4
FOOTER_SIZE_PX = 10  # 7.5 pt
FOOTER_COLOR = parse_color("#555")
FOOTER_BASELINE_MM = 6  # above the page's bottom edge


class _Line:
    """The parts of a text box WeasyPrint's line drawing reads."""

    def __init__(self, text: str, style) -> None:
        """Shape one line of text with the style's font."""
        self.text = text
        self.style = style
        self.pango_layout = create_layout(text, style, None, None, 0)


class FooterPage:
    """A laid-out page that draws one line of footer text over its own content."""

    def __init__(self, page: Page, text: str, style) -> None:
        """Wrap a laid-out page; everything but paint is the page's own."""
        self._page = page
        self._line = _Line(text, style)

    def __getattr__(self, name: str):
        """Links, anchors, sizes and boxes come from the wrapped page."""
        return getattr(self._page, name)

    def paint(self, stream, scale: float = 1) -> None:
        """Draw the page, then the footer at its left margin, in CSS px like the page."""
        self._page.paint(stream, scale)
        x = tuning.page_box(self._page).margin_left
        y = self._page.height - FOOTER_BASELINE_MM * MM_IN_PX
        with stream.stacked():
            stream.transform(a=scale, d=scale)
            stream.set_color(FOOTER_COLOR)
            stream.begin_text()
            # The stream's y axis points down, as the page is drawn: text is flipped back.
            draw_first_line(stream, self._line, "clip", "none", Matrix(d=-1, e=x, f=y))
            stream.end_text()


def with_footers(pages: list[Page]) -> list:
    """The pages, each wrapped to draw the footer the root element asks for in data-footer.

    "{page}" and "{pages}" in it become the page number and the page count. The footer takes
    the root element's font family at 7.5 pt in grey, at the page's left margin, 6 mm above
    the bottom edge. Without data-footer the pages come back as they are.
    """
    if not pages:
        return pages
    root = tuning.page_box(pages[0]).children[0]
    template = root.element.get("data-footer") if root.element is not None else None
    if not template:
        return pages
    style = root.style.copy()
    style["font_size"] = FOOTER_SIZE_PX
    count = str(len(pages))
    return [
        FooterPage(page, template.replace("{pages}", count).replace("{page}", str(number)), style)
        for number, page in enumerate(pages, start=1)
    ]
