"""CSV and XLSX exports of reports, stalls, ASN compliance and the review queue.

Rows come from a server-side cursor (yield_per) and go straight out: CSV as a streamed
response, XLSX through openpyxl's write-only workbook into a temporary file. Neither holds
the whole export in memory. Times are WIB; rupiah are whole numbers.
"""

import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select

from promkm_qr.core.cells import csv_writer, text_cell
from promkm_qr.core.nik import mask_phone
from promkm_qr.dashboard import compliance, queries
from promkm_qr.dashboard.filters import WIB_OFFSET, Filters
from promkm_qr.extensions import db
from promkm_qr.models import (
    Category,
    Kecamatan,
    Kelurahan,
    Opd,
    PurchaseReport,
    ReportFlag,
    Stall,
    User,
)

R = PurchaseReport
RUPIAH_FORMAT = '"Rp"#,##0'
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
BATCH = 5000


@dataclass(frozen=True)
class Export:
    """One export: its sheet title, column titles and kinds, and a row source."""

    title: str
    columns: tuple[tuple[str, str], ...]  # (title, kind): kind is text | int | money | datetime
    rows: Iterator[tuple]


def _lazy(query, convert) -> Iterator[tuple]:
    """Converted rows of a query, fetched in batches through a server-side cursor.

    A generator, so the query runs only when the export is read: inside the streamed
    response, whose transaction is the one the cursor lives in.
    """
    for row in db.session.execute(query.execution_options(yield_per=BATCH)):
        yield convert(*row)


def _wib(moment: datetime | None) -> datetime | None:
    """A stored naive-UTC time as naive WIB wall-clock time."""
    return None if moment is None else moment + WIB_OFFSET


def _period(query, f: Filters):
    """Restrict a reports query to the filter's period."""
    lower, upper = f.utc_bounds
    return query.where(R.purchased_at >= lower, R.purchased_at < upper)


def _located(query):
    """Join a stalls query to its kelurahan and kecamatan names."""
    return query.join(Kelurahan, Kelurahan.id == Stall.kelurahan_id).join(
        Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id
    )


def reports_export(f: Filters) -> Export:
    """Every report of the period in the area, whatever its state."""
    query = _located(
        select(
            R.reference, R.purchased_at, R.state, R.amount, Stall.code, Stall.name,
            Kelurahan.name, Kecamatan.name, Opd.name, User.nip, User.name, R.flagged,
        )
        .select_from(R)
        .join(Stall, Stall.id == R.stall_id)
        .join(User, User.id == R.asn_id)
        .outerjoin(Opd, Opd.id == R.opd_id)
    )  # fmt: skip
    query = queries.in_area(_period(query, f), f).order_by(R.purchased_at, R.id)
    rows = _lazy(
        query,
        lambda ref, at, state, amount, code, stall, kel, kec, opd, nip, name, flagged: (
            ref, _wib(at), state, amount, code, stall, kel, kec, opd or "", nip, name,
            "ya" if flagged else "",
        ),
    )  # fmt: skip
    columns = (
        ("Nomor", "text"), ("Waktu (WIB)", "datetime"), ("Status", "text"), ("Nominal", "money"),
        ("Kode lapak", "text"), ("Lapak", "text"), ("Kelurahan", "text"), ("Kecamatan", "text"),
        ("OPD", "text"), ("NIP", "text"), ("Nama ASN", "text"), ("Ditandai", "text"),
    )  # fmt: skip
    return Export("Laporan", columns, rows)


def stalls_export(f: Filters) -> Export:
    """Stalls in the area with their counted sales in the period; phone numbers masked."""
    sales = (
        _period(select(R.stall_id, func.count().label("n"), func.sum(R.amount).label("rp")), f)
        .where(R.state.in_(queries.counted_states()))
        .group_by(R.stall_id)
        .subquery()
    )
    query = _located(
        select(
            Stall.code, Stall.name, Kelurahan.name, Kecamatan.name, Category.name, Stall.status,
            Stall.phone, func.coalesce(sales.c.n, 0), func.coalesce(sales.c.rp, 0),
        ).outerjoin(Category, Category.id == Stall.category_id)
    ).outerjoin(sales, sales.c.stall_id == Stall.id)  # fmt: skip
    query = queries.in_area(query, f).order_by(Stall.code)
    rows = _lazy(
        query,
        lambda code, name, kel, kec, cat, status, phone, n, rp: (
            code, name, kel, kec, cat or "", status, mask_phone(phone) if phone else "", n, int(rp),
        ),
    )  # fmt: skip
    columns = (
        ("Kode", "text"), ("Nama lapak", "text"), ("Kelurahan", "text"), ("Kecamatan", "text"),
        ("Kategori", "text"), ("Status", "text"), ("Telepon", "text"), ("Laporan", "int"),
        ("Penjualan", "money"),
    )  # fmt: skip
    return Export("Lapak", columns, rows)


def asn_export(f: Filters, below_only: bool = False) -> Export:
    """ASN compliance with the quota (all, or only those below it, for reminders)."""

    def rows():
        """Rows read lazily, like the streamed exports."""
        for r in compliance.asn_compliance(f):
            if not (below_only and r["met"]):
                yield (r["nip"], r["name"], r["opd"], r["position_class"], r["count"],
                       r["amount"], r["quota"], "memenuhi" if r["met"] else "kurang")  # fmt: skip

    columns = (
        ("NIP", "text"), ("Nama", "text"), ("OPD", "text"), ("Kelas jabatan", "text"),
        ("Laporan", "int"), ("Belanja", "money"), ("Kuota", "money"), ("Status", "text"),
    )  # fmt: skip
    return Export("Kepatuhan ASN", columns, rows())


def review_export(f: Filters) -> Export:
    """Open reports in the area that are flagged or disputed, with their reasons."""
    join = (
        func.string_agg if db.session.get_bind().dialect.name == "postgresql" else func.group_concat
    )
    reasons = (
        select(ReportFlag.report_id, join(ReportFlag.rule, ", ").label("rules"))
        .group_by(ReportFlag.report_id)
        .subquery()
    )
    query = _located(
        select(
            R.reference,
            R.purchased_at,
            R.state,
            R.amount,
            Stall.code,
            Stall.name,
            Kelurahan.name,
            reasons.c.rules,
        )
        .select_from(R)
        .join(Stall, Stall.id == R.stall_id)
        .outerjoin(reasons, reasons.c.report_id == R.id)
    ).where(queries.OPEN_REVIEW)
    query = queries.in_area(query, f).order_by(R.purchased_at, R.id)
    rows = _lazy(
        query,
        lambda ref, at, state, amount, code, stall, kel, rules: (
            ref, _wib(at), state, amount, code, stall, kel, rules or "",
        ),
    )  # fmt: skip
    columns = (
        ("Nomor", "text"), ("Waktu (WIB)", "datetime"), ("Status", "text"), ("Nominal", "money"),
        ("Kode lapak", "text"), ("Lapak", "text"), ("Kelurahan", "text"), ("Alasan", "text"),
    )  # fmt: skip
    return Export("Antrean tinjauan", columns, rows)


def _csv_value(value):
    """A cell for CSV: WIB times as YYYY-MM-DD HH:MM; numbers stay numbers (plain digits)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else value


def csv_chunks(export: Export) -> Iterator[str]:
    """The export as CSV text in chunks of BATCH rows (BOM first, so Excel reads UTF-8)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([title for title, _kind in export.columns])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(export.rows, 1):
        writer.writerow([_csv_value(v) for v in row])
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(export: Export, handle) -> None:
    """Write the export as an XLSX workbook (write-only: rows are not kept in memory)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(export.title)
    bold = Font(bold=True)
    header = []
    for title, _kind in export.columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    kinds = [kind for _title, kind in export.columns]
    for row in export.rows:
        cells = []
        for kind, value in zip(kinds, row, strict=True):
            cell = text_cell(sheet, value)
            if kind == "money":
                cell.number_format = RUPIAH_FORMAT
            elif kind == "datetime":
                cell.number_format = DATETIME_FORMAT
            cells.append(cell)
        sheet.append(cells)
    book.save(handle)


def xlsx_file(export: Export):
    """The export as an XLSX in an anonymous temporary file, rewound for sending."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (send_file closes it)
    write_xlsx(export, handle)
    handle.seek(0)
    return handle
