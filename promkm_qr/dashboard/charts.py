"""Server-side SVG bar charts, inlined into pages (no script, no CDN, no inline style).

Each chart is followed on the page by a table of the same numbers, for screen readers and
for copying; the SVG itself is marked as an image with a title.
"""

from markupsafe import Markup, escape

from promkm_qr.core.money import format_rupiah

BAR = "#0b6e4f"
AXIS = "#5b6b75"
GRID = "#d9e1e5"


def _scale(values: list[int]) -> int:
    """The largest value, at least 1, so an all-zero chart draws empty bars."""
    return max([*values, 1])


def _shown(row: dict, value: str) -> str:
    """A bar's value as text: rupiah for amounts, a plain number otherwise."""
    return format_rupiah(row[value]) if value == "amount" else str(row[value])


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    """Wrap drawn elements in an accessible <svg>."""
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    )
    # Every piece of text in body went through escape(); numbers are formatted here.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def column_chart(
    rows: list[dict], title: str, *, value: str = "amount", label: str = "label"
) -> Markup:
    """Vertical bars, one per row (e.g. per day), labelled underneath with the row's tail."""
    width, height, top, bottom = 720, 240, 16, 36
    slot = width / max(len(rows), 1)
    peak = _scale([r[value] for r in rows])
    base = height - bottom
    parts = [f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="{AXIS}"/>']
    usable = height - top - bottom
    for i, row in enumerate(rows):
        bar = usable * row[value] / peak
        x = i * slot + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - bar:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar:.1f}" fill="{BAR}"><title>{escape(row[label])}: '
            f"{escape(_shown(row, value))}</title></rect>"
        )
        # Only the day of a YYYY-MM-DD label fits under a narrow column.
        tick = str(row[label])[-2:]
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle" fill="{AXIS}">{escape(tick)}</text>'
        )
    return _svg(width, height, title, parts)


def bar_chart(
    rows: list[dict], title: str, *, value: str = "amount", label: str = "label"
) -> Markup:
    """Horizontal bars, one per row (e.g. per kecamatan), with the name and amount as text."""
    width, row_height, name_width = 720, 28, 200
    height = max(len(rows), 1) * row_height + 8
    peak = _scale([r[value] for r in rows])
    parts = []
    usable = width - name_width - 140
    for i, row in enumerate(rows):
        y = i * row_height + 4
        bar = usable * row[value] / peak
        parts += [
            f'<text x="0" y="{y + 18}" font-size="13" fill="{AXIS}">{escape(row[label])}</text>',
            f'<rect x="{name_width}" y="{y + 4}" width="{usable}" height="18" fill="{GRID}"/>',
            f'<rect x="{name_width}" y="{y + 4}" width="{bar:.1f}" height="18" fill="{BAR}"/>',
            f'<text x="{name_width + usable + 8}" y="{y + 18}" font-size="13" fill="{AXIS}">'
            f"{escape(_shown(row, value))}</text>",
        ]
    return _svg(width, height, title, parts)
