"""Draw the app's PNG icons (installable web app) from the mark of promkm_qr/static/favicon.svg.

The mark is a few rectangles on a 32-unit grid, drawn here with Pillow at each size so the
PNGs match the SVG without an SVG renderer. Run after changing the mark:
    .venv/bin/python scripts/make_icons.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parent.parent / "promkm_qr" / "static"
BRAND, WHITE = "#0b6e4f", "#ffffff"
# (x, y, width, height, colour) on the 32-unit grid, in the SVG's drawing order.
SQUARES = [
    *((x, y, 8, 8, BRAND) for x, y in ((7, 7), (17, 7), (7, 17))),
    *((x, y, 3, 3, BRAND) for x, y in ((17, 17), (22, 17), (17, 22), (22, 22))),
    *((x, y, 4, 4, WHITE) for x, y in ((9, 9), (19, 9), (9, 19))),
    *((x, y, 2, 2, BRAND) for x, y in ((10, 10), (20, 10), (10, 20))),
]


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    """The mark at `size` pixels; a maskable icon fills the square and keeps a safe margin."""
    image = Image.new("RGB", (size, size), BRAND)
    pen = ImageDraw.Draw(image)
    # A maskable icon's content must sit inside the middle 80 % circle: shrink the mark.
    scale = size / 32 * (0.7 if maskable else 1)
    offset = (size - 32 * scale) / 2
    if not maskable:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        pen = ImageDraw.Draw(image)
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=6 * scale, fill=BRAND)

    def box(x, y, w, h):
        return (
            offset + x * scale,
            offset + y * scale,
            offset + (x + w) * scale - 1,
            offset + (y + h) * scale - 1,
        )

    pen.rounded_rectangle(box(4, 4, 24, 24), radius=3 * scale, fill=WHITE)
    for x, y, w, h, colour in SQUARES:
        pen.rectangle(box(x, y, w, h), fill=colour)
    return image


def main() -> None:
    for size in (192, 512):
        draw(size).save(STATIC / "icons" / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(STATIC / "icons" / "maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
