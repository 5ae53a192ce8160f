"""Reading the stall spreadsheets dinas keep: CSV (',' or ';') or XLSX, columns by header.

Headers are matched after lower-casing and turning anything but letters and digits into
"_", so "Nama Usaha", "NAMA_USAHA" and "nama usaha " all name the business. Every cell is
read as text; the import validates it. An XLSX formula stays a core.xlsx.Formula, which the
import refuses by line and column.
"""

import csv
import io
import re
from collections.abc import Iterator

from flask_babel import gettext as _

from promkm_qr.core.xlsx import Formula, sheet_rows

COLUMNS = {
    "code": ("kode_lapak", "kode", "stall_code", "code"),
    "name": ("nama_usaha", "nama_lapak", "nama_umkm", "nama_toko", "business_name", "name"),
    "owner_name": ("nama_pemilik", "pemilik", "owner", "owner_name"),
    "owner_nik": ("nik_pemilik", "nik", "owner_nik"),
    "phone": ("no_hp", "nomor_hp", "hp", "no_telp", "telepon", "whatsapp", "phone"),
    "kelurahan": ("kelurahan", "desa", "kode_kelurahan", "kelurahan_desa"),
    "category": ("kategori", "jenis_usaha", "bidang_usaha", "category"),
    "address": ("alamat", "alamat_usaha", "address"),
    "nib": ("nib", "nomor_induk_berusaha"),
    "lat": ("lat", "latitude", "lintang"),
    "lon": ("lon", "lng", "longitude", "bujur"),
    "qris_payload": ("qris", "payload_qris", "data_qris"),
}
REQUIRED = ("name", "kelurahan", "owner_nik")


class ImportRefused(ValueError):
    """A file that cannot be imported at all (no usable header, not CSV/XLSX)."""


def expected_columns() -> str:
    """The headers a file needs, for the refusal message."""
    return (
        ", ".join(COLUMNS[key][0] for key in REQUIRED)
        + " ("
        + _("wajib")
        + "); "
        + ", ".join(COLUMNS[key][0] for key in COLUMNS if key not in REQUIRED)
    )


def _normalise_header(text) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text or "").strip().lower()).strip("_")


def map_header(header: list) -> dict[str, int]:
    """Field -> column index; raises ImportRefused if the required columns are missing."""
    aliases = {alias: field for field, names in COLUMNS.items() for alias in names}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        field = aliases.get(_normalise_header(cell))
        if field and field not in found:
            found[field] = index
    if any(field not in found for field in REQUIRED):
        raise ImportRefused(
            _(
                "Baris judul tidak dikenali. Kolom yang diharapkan: %(cols)s.",
                cols=expected_columns(),
            )
        )
    return found


def _cell(value) -> str:
    """A cell as text; spreadsheet numbers lose the '.0' they gain in Excel."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return value  # kept as such: the import refuses it by line and column
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row, the header first; CSV (',' or ';') or XLSX."""
    if filename.lower().endswith(".xlsx"):
        try:
            rows = sheet_rows(data)
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise ImportRefused(_("Berkas XLSX tidak dapat dibaca.")) from exc
        for number, row in enumerate(rows, start=1):
            yield number, [_cell(v) for v in row]
        return
    if not filename.lower().endswith(".csv"):
        raise ImportRefused(_("Gunakan berkas CSV atau XLSX."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # what Excel on Windows saves as "CSV"
        except UnicodeDecodeError as exc:
            raise ImportRefused(_("Berkas CSV tidak dapat dibaca.")) from exc
    first = text.split("\n", 1)[0]
    # newline="": line ends of any kind (also a lone "\r") are the reader's to handle.
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=";" if first.count(";") > first.count(",") else ",",
    )
    try:
        for row in reader:
            yield reader.line_num, [_cell(v) for v in row]
    except csv.Error as exc:
        raise ImportRefused(_("Berkas CSV tidak dapat dibaca.")) from exc


def check_header(data: bytes, filename: str) -> dict[str, int]:
    """Read only the header row and map it (for refusing a file at upload time)."""
    for _number, header in read_rows(data, filename):
        return map_header(header)
    raise ImportRefused(_("Berkas kosong."))
