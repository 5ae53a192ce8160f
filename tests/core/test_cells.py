"""The guard every CSV writer uses, and XLSX text cells, on each character that starts a
formula (OWASP's list: = + - @ tab carriage return)."""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

import promkm_qr
from promkm_qr.core.cells import csv_writer, text_cell

HOSTILE = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_text_gets_a_leading_quote_and_numbers_stay_numbers(delimiter):
    out = io.StringIO()
    csv_writer(out, delimiter=delimiter).writerows([HOSTILE, [-5000, 12.5, 0, "Pecel -1", ""]])
    hostile, numbers = csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=delimiter)
    assert hostile == ["'" + text for text in HOSTILE]
    assert numbers == ["-5000", "12.5", "0", "Pecel -1", ""]


def test_xlsx_text_cells_are_strings_whatever_they_begin_with():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("x")
    sheet.append([text_cell(sheet, value) for value in [*HOSTILE, -5000]])
    out = io.BytesIO()
    book.save(out)
    row = next(load_workbook(out).active.iter_rows())
    assert [cell.data_type for cell in row] == ["s"] * len(HOSTILE) + ["n"]
    assert [cell.value for cell in row] == [*HOSTILE, -5000]


def test_xlsx_text_cells_drop_the_control_characters_xlsx_cannot_hold():
    # A pasted name with an escape character would otherwise fail the whole export.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("x")
    sheet.append([text_cell(sheet, "Warung\x1b Bu\x07 Sri\tPecel")])
    out = io.BytesIO()
    book.save(out)
    assert load_workbook(out).active["A1"].value == "Warung Bu Sri\tPecel"


def test_every_csv_the_app_writes_goes_through_the_guard():
    root = Path(promkm_qr.__file__).parent
    direct = re.compile(r"\bcsv\.(writer|DictWriter)\b|from csv import")
    writers = [p.relative_to(root) for p in root.rglob("*.py") if direct.search(p.read_text())]
    assert writers == [Path("core/cells.py")]
