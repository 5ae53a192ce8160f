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

PT_PER_PX = 0.75  # WeasyPrint lays out in CSS px and writes PDF points


@dataclass(frozen=True)
class Placement:
    """Draw form number `form` beneath target page `page`, moved by (dx, dy) CSS px."""

    form: int
    page: int
    dx: float = 0.0
    dy: float = 0.0


def slots(page: Page) -> Iterator[tuple[str, float, float]]:
    """(name, x, y) of each element with a data-form attribute on a laid-out page."""
    seen = set()
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        name = element.get("data-form") if element is not None else None
        # The first box of an element in document order is its own, not an anonymous child's.
        if name and id(element) not in seen:
            seen.add(id(element))
            yield name, box.border_box_x(), box.border_box_y()


def slot_placements(forms: list[Page], pages: Iterable[Page], first_form: int = 0):
    """Placements moving each form page's data-form element onto the pages' same-named slots."""
    origins = {name: (i, x, y) for i, form in enumerate(forms) for name, x, y in slots(form)}
    placements = []
    for number, page in enumerate(pages):
        for name, x, y in slots(page):
            if name in origins:
                form, form_x, form_y = origins[name]
                placements.append(Placement(first_form + form, number, x - form_x, y - form_y))
    return placements


def draw_forms(_document: Document, pdf: pydyf.PDF, *, forms: int, placements: list[Placement]):
    """WeasyPrint finisher: the first `forms` pages become forms drawn by the placements.

    Placement pages count from the first page after the forms. WeasyPrint gives every page
    one shared resources dictionary; the forms get a copy of it made before they are named
    in it, so that no form refers to itself.
    """
    objects, kids = pdf.objects, pdf.pages["Kids"]  # kids: flat [number, 0, "R", ...]
    form_pages = [objects[number] for number in kids[: 3 * forms : 3]]
    del kids[: 3 * forms]
    pdf.pages["Count"] -= forms
    targets = [objects[number] for number in kids[::3]]

    def number(reference: bytes) -> int:
        return int(reference.split()[0])

    resources = objects[number(form_pages[0]["Resources"])]
    form_resources = pydyf.Dictionary(resources)
    form_resources["XObject"] = pydyf.Dictionary(resources["XObject"])
    pdf.add_object(form_resources)
    box = _rounded(form_pages[0]["MediaBox"])
    for index, page in enumerate(form_pages):
        form = objects[number(page["Contents"])]
        form.extra.update(
            {
                "Type": "/XObject",
                "Subtype": "/Form",
                "BBox": page["MediaBox"],
                "Resources": form_resources.reference,
            }
        )
        resources["XObject"][f"Form{index}"] = form.reference
        page.clear()  # no longer a page: left as an empty dictionary
    for placement in placements:
        target = targets[placement.page]
        if _rounded(target["MediaBox"]) != box:
            raise ValueError("A shared form and the page it is drawn on must have the same size")
        # PDF's y axis points up: a slot lower on the page moves the form down.
        move = f"1 0 0 1 {placement.dx * PT_PER_PX:.3f} {-placement.dy * PT_PER_PX:.3f} cm"
        draw = pydyf.Stream([f"q {move} /Form{placement.form} Do Q".encode()])
        pdf.add_object(draw)
        contents = target["Contents"]
        before = list(contents) if isinstance(contents, pydyf.Array) else [contents]
        target["Contents"] = pydyf.Array([draw.reference, *before])


def _rounded(box) -> list[float]:
    """A PDF box's coordinates to a hundredth of a point: page sizes are sums of lengths."""
    return [round(float(value), 2) for value in box]
