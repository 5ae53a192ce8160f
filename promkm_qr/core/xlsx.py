"""A sheet of an uploaded XLSX file, with formula cells marked as formulas.

A formula has a value in the file only if the program that saved it cached one (openpyxl
and many exporters do not), so reading values only (data_only=True) takes a formula for an
empty cell: a required column looks unfilled and an optional one is stored blank. Formulas
are read as formulas instead, and the importers refuse them by line and column.
"""

import io
from collections.abc import Iterator

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter


class Formula(str):
    """A cell holding a formula (its text, such as "=A2*2") rather than a value."""


def sheet_rows(data: bytes, *, active: bool = False) -> Iterator[list]:
    """The cell values of every row of the first sheet (or the one the file opens on).

    Raises at once, not at the first row, if the bytes are not an XLSX workbook.
    """
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    return _rows(book, book.active if active else book.worksheets[0])


def _rows(book, sheet) -> Iterator[list]:
    """The rows of the sheet, the book closed after the last one or when the reader stops."""
    try:
        for row in sheet.iter_rows():
            # An array formula's value is an object holding the formula text.
            yield [
                Formula(getattr(cell.value, "text", cell.value))
                if cell.data_type == "f"
                else cell.value
                for cell in row
            ]
    finally:  # also when the reader stops early (only the header was read)
        book.close()


def column_label(index: int, header: str) -> str:
    """A column as the spreadsheet shows it: "C (NIK Pemilik)" for index 2 (0-based)."""
    letter = get_column_letter(index + 1)
    return f"{letter} ({header.strip()})" if header and header.strip() else letter


def formula_refused(index: int, header: str) -> str:
    """The message for a formula in the column at index (0-based) with that header."""
    return _(
        "Kolom %(column)s: rumus tidak diterima, isi nilainya.",
        column=column_label(index, header),
    )
