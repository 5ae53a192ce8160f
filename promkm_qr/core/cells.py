"""Spreadsheet cells from user text that never become live formulas.

A spreadsheet opens a CSV cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula, so a stall named `=HYPERLINK(...)` would run on the staff's machine
(OWASP, CSV injection). Every CSV the app writes goes through `csv_writer`, which puts a
`'` before such text, as OWASP advises; numbers are written as numbers (a negative amount
is a number, not text, so it keeps no guard). In XLSX a cell typed as a string is never
evaluated, so `text_cell` keeps the text as it is, less the control characters XLSX cannot
hold at all (openpyxl refuses them, which would fail the whole export).
"""

import csv
from collections.abc import Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(value):
    """Text that a spreadsheet would read as a formula, with a leading `'`; else the value."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _GuardedWriter:
    """A csv.writer whose every text cell passes through `guard`."""

    def __init__(self, out, **fmtparams):
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable):
        return self._writer.writerow([guard(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out, **fmtparams) -> _GuardedWriter:
    """The one CSV writer of the app (same arguments as csv.writer)."""
    return _GuardedWriter(out, **fmtparams)


def text_cell(sheet, value) -> WriteOnlyCell:
    """A write-only XLSX cell; text stays a string even when it begins with `=`."""
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell
