"""Reading an ASN roster file from the BKPSDM export (CSV or XLSX) into checked rows.

Nothing here touches accounts: every row is checked and every bad one reported by its line,
so that applying (`accounts.roster`) only ever sees a file that is good throughout.
"""

import csv
import io
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from promkm_qr.core.money import parse_rupiah
from promkm_qr.core.nip import InvalidNip, parse_nip
from promkm_qr.core.text import HiddenCharacter, check_text
from promkm_qr.core.xlsx import Formula, column_label, formula_refused, sheet_rows
from promkm_qr.extensions import db
from promkm_qr.models import QuotaRule

# Column names as BKPSDM exports write them, and the English ones, mapped to our fields.
HEADERS = {
    "nip": "nip",
    "nama": "name",
    "name": "name",
    "opd": "opd",
    "unit kerja": "opd",
    "kelas jabatan": "position",
    "jabatan": "position",
    "position class": "position",
    "golongan": "golongan",
    "tpp": "tpp",
}
REQUIRED = ("nip", "name", "opd", "position")


class RosterFileError(ValueError):
    """The file cannot be read as a roster at all (wrong type, missing columns, empty)."""


class ExcelNumber(str):
    """Text of an XLSX cell that Excel stored as a number (an 18-digit NIP loses digits)."""


@dataclass
class RosterRow:
    """One valid roster line."""

    line: int
    nip: str
    name: str
    opd: str
    position: str
    golongan: str | None
    tpp: int | None


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV (comma or semicolon) or XLSX file as text cells."""
    if not data:  # before the reader takes an empty XLSX for a broken one
        raise RosterFileError(_("Berkas kosong."))
    if filename.lower().endswith(".xlsx"):
        try:
            rows = list(sheet_rows(data, active=True))
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise RosterFileError(_("Berkas XLSX tidak dapat dibaca.")) from exc
        # A Formula stays one, so parse_roster can refuse it by line and column.
        return [[v if isinstance(v, Formula) else _cell_text(v) for v in row] for row in rows]
    if not filename.lower().endswith(".csv"):
        raise RosterFileError(_("Unggah berkas CSV atau XLSX."))
    text = data.decode("utf-8-sig", errors="replace")
    # The delimiter is whichever of ";" and "," the header line uses more. csv.Sniffer is not
    # used: it takes the apostrophe of names like Ma'ruf for a quote character, and gives up
    # with an exception on files it cannot guess.
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterFileError(_("Berkas CSV tidak dapat dibaca.")) from exc


def _cell_text(value) -> str:
    """An XLSX cell as text, numbers marked as such."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ExcelNumber(value)
    return str(value)


def _position_slug(text: str) -> str:
    """ "Eselon IV" -> "eselon-iv", the key of the quota rules."""
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def _refused_cells(header: list[str], cells: list[str], columns: dict) -> str | None:
    """One message naming each formula or text with hidden characters in the columns read."""
    messages = []
    for i, text in enumerate(cells):
        if not columns.get(i):
            continue
        if isinstance(text, Formula):
            messages.append(formula_refused(i, header[i]))
            continue
        try:
            check_text(text)
        except HiddenCharacter as exc:
            messages.append(
                _("Kolom %(column)s: %(message)s", column=column_label(i, header[i]), message=exc)
            )
    return " ".join(messages) or None


def parse_roster(table: list[list[str]]) -> tuple[list[RosterRow], list[tuple[int, str]]]:
    """Valid rows and (line, message) for each bad one; line 1 is the header."""
    if not table:
        raise RosterFileError(_("Berkas kosong."))
    columns = {i: HEADERS.get(h.strip().lower()) for i, h in enumerate(table[0])}
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        raise RosterFileError(_("Kolom wajib tidak ada: %(cols)s.", cols=", ".join(missing)))
    positions = set(db.session.scalars(select(QuotaRule.position_class)))
    rows, errors, seen = [], [], {}
    for line, cells in enumerate(table[1:], start=2):
        refused = _refused_cells(table[0], cells, columns)
        if refused:
            errors.append((line, refused))
            continue
        values = {columns[i]: c.strip() for i, c in enumerate(cells) if columns.get(i)}
        if not any(values.values()):
            continue
        nip_cell = _nip_cell(cells, columns)
        if isinstance(nip_cell, ExcelNumber):
            # Excel keeps 15 significant digits, so the NIP's last digits are already lost.
            message = _(
                "NIP tersimpan sebagai angka oleh Excel, sehingga digit terakhirnya hilang "
                "(%(v)s). Format kolom NIP sebagai Teks, ketik ulang NIP-nya, lalu unggah lagi.",
                v=nip_cell,
            )
            errors.append((line, message))
            continue
        try:
            nip = parse_nip(values.get("nip", "")).digits
        except InvalidNip as exc:
            errors.append((line, _("NIP tidak sah: %(msg)s", msg=str(exc))))
            continue
        if nip in seen:
            errors.append((line, _("NIP sama dengan baris %(line)s.", line=seen[nip])))
            continue
        seen[nip] = line
        position = _position_slug(values.get("position", ""))
        problem = None
        if not values.get("name"):
            problem = _("Nama wajib diisi.")
        elif not values.get("opd"):
            problem = _("OPD wajib diisi.")
        elif position not in positions:
            problem = _("Kelas jabatan tidak dikenal: %(p)s.", p=values.get("position", ""))
        tpp = None
        if values.get("tpp") and problem is None:
            try:
                tpp = parse_rupiah(values["tpp"].removesuffix(".0"))
            except ValueError as exc:
                problem = _("TPP tidak sah: %(msg)s", msg=str(exc))
        if problem:
            errors.append((line, problem))
            continue
        rows.append(
            RosterRow(
                line,
                nip,
                values["name"],
                values["opd"],
                position,
                values.get("golongan") or None,
                tpp,
            )
        )
    return rows, errors


def _nip_cell(cells: list[str], columns: dict) -> str | None:
    """The raw NIP cell of a row, before stripping (which would drop the number mark)."""
    return next((c for i, c in enumerate(cells) if columns.get(i) == "nip"), None)
