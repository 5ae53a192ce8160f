"""The TPP file payroll loads: each rostered ASN's closed month against the quota.

Rows come from the API's compliance query (the dashboard's figures), in one statement.
The last line is a checksum line: the number of ASN, the column sums and the SHA-256 of
the data lines (each line's values joined by "|", one line per ASN, "\n" after each), so
payroll can tell a file that was cut or edited.
"""

import hashlib
import io

from promkm_qr.api import compliance_data
from promkm_qr.dashboard.exports import Export, csv_chunks, write_xlsx
from promkm_qr.models.report import REPORT_STATES

COLUMNS = (
    ("NIP", "text"), ("Nama", "text"), ("OPD", "text"), ("Kelas jabatan", "text"),
    ("Kuota", "money"), ("Total dihitung", "money"), ("Kekurangan", "money"),
    *((f"Laporan {state}", "int") for state in REPORT_STATES),
)  # fmt: skip


class MonthOpen(ValueError):
    """The month's figures can still change: no TPP file yet."""


class MonthAhead(MonthOpen):
    """The month has not begun: a mistyped month rather than one to wait for."""


def tpp_rows(month: str, opd_id: int | None) -> tuple[list[tuple], list[int]]:
    """One row per rostered ASN (by user id), in the file's column order, and their ids."""
    items = compliance_data.asn_month(month, opd_id)
    rows = [
        (r["nip"], r["name"], r["opd"] or "", r["position_class"], r["quota"],
         r["counted_total"], r["shortfall"], *(r["state_counts"][s] for s in REPORT_STATES))
        for r in items
    ]  # fmt: skip
    return rows, [r["user_id"] for r in items]


def checksum_line(rows: list[tuple]) -> tuple:
    """CHECKSUM, the row count, the sums of the number columns and the data's SHA-256."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(("|".join(str(v) for v in row) + "\n").encode())
    sums = [sum(row[i] for row in rows) for i in range(4, len(COLUMNS))]
    return ("CHECKSUM", str(len(rows)), f"sha256:{digest.hexdigest()}", "", *sums)


def tpp_file(month: str, opd_id: int | None, fmt: str) -> tuple[bytes, list[int]]:
    """The file for a closed month, city-wide or of one OPD, as CSV or XLSX bytes, and the
    user ids it names (for the audit of a read through the API)."""
    if compliance_data.month_ahead(month):
        raise MonthAhead(month)
    if not compliance_data.month_closed_text(month):
        raise MonthOpen(month)
    rows, ids = tpp_rows(month, opd_id)
    export = Export(f"TPP {month}", COLUMNS, iter([*rows, checksum_line(rows)]))
    if fmt == "csv":
        return "".join(csv_chunks(export)).encode(), ids
    handle = io.BytesIO()
    write_xlsx(export, handle)
    return handle.getvalue(), ids
