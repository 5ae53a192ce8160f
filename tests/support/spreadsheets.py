"""Spreadsheet files built in memory, as dinas would upload them (CSV or XLSX)."""

import csv
import io

from openpyxl import Workbook


def csv_bytes(rows: list[list], delimiter: str = ",") -> bytes:
    """The rows as a CSV file with the given delimiter."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows: list[list]) -> bytes:
    """The rows as the first sheet of an XLSX workbook."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
