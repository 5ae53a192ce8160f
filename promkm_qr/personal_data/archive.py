"""The "Unduh data saya" archive: one ZIP with the person's data as JSON and CSV, and files.

data.json holds everything; the CSV files hold the same in tables a spreadsheet opens
(every cell through core.cells.csv_writer, so text typed by anyone never runs as a
formula); foto/ and dokumen/ hold the photos and the PDFs issued to the person.
"""

import io
import json
import zipfile

from promkm_qr.core.cells import csv_writer
from promkm_qr.models import User
from promkm_qr.personal_data import collect
from promkm_qr.storage import get_storage

README = """Data pribadi Anda dari PROMKM-QR (Kota Madiun).

data.json   semua data dalam satu berkas (akun, lapak, laporan dan riwayatnya, dokumen)
akun.csv    data akun
laporan.csv laporan belanja
riwayat.csv perubahan status setiap laporan
lapak.csv   lapak Anda (untuk UMKM)
dokumen.csv dokumen yang diterbitkan untuk Anda; berkasnya di folder dokumen/
foto/       foto yang Anda kirim (atau foto lapak) yang masih disimpan

Waktu ditulis dalam UTC (akhiran +00:00); nominal dalam rupiah.
"""

REPORT_COLUMNS = (
    "id",
    "referensi",
    "lapak_kode",
    "lapak_nama",
    "nominal",
    "kategori_barang",
    "keterangan",
    "cara_bayar",
    "waktu_belanja",
    "status",
    "status_label",
    "ditandai",
    "dikirim",
    "lat",
    "lon",
    "foto",
    "foto_diambil",
    "foto_lat",
    "foto_lon",
)
HISTORY_COLUMNS = ("waktu", "dari", "ke", "oleh", "alasan")


def person_data(person: User, documents: list[dict]) -> dict:
    """Everything the archive's data.json holds (`documents` as collect.documents gives them)."""
    data = {
        "akun": collect.account(person),
        "laporan": collect.reports(person),
        "dokumen": [{k: v for k, v in doc.items() if k != "storage_key"} for doc in documents],
    }
    if person.role == "merchant":
        data["lapak"] = collect.stalls(person)
    return data


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    # A BOM, so a spreadsheet opens the file as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def _tables(data: dict) -> dict[str, bytes]:
    """The CSV files of the archive."""
    reports = data["laporan"]
    columns = [c for c in REPORT_COLUMNS if any(c in r for r in reports)] or REPORT_COLUMNS[:13]
    tables = {
        "akun.csv": _csv(("kolom", "nilai"), data["akun"].items()),
        "laporan.csv": _csv(columns, ([r.get(c) for c in columns] for r in reports)),
        "riwayat.csv": _csv(
            ("referensi", *HISTORY_COLUMNS, "perubahan"),
            (
                [r["referensi"], *(h[c] for c in HISTORY_COLUMNS), _json_cell(h["perubahan"])]
                for r in reports
                for h in r["riwayat"]
            ),
        ),
        "dokumen.csv": _csv(
            ("id", "jenis", "periode", "dibuat", "sha256", "berkas"),
            (
                [d[k] for k in ("id", "jenis", "periode", "dibuat", "sha256", "berkas")]
                for d in data["dokumen"]
            ),
        ),
    }
    if "lapak" in data:
        stalls = data["lapak"]
        header = list(stalls[0]) if stalls else ["id", "kode", "nama"]
        tables["lapak.csv"] = _csv(header, ([s.get(c) for c in header] for s in stalls))
    return tables


def _json_cell(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def build(person: User) -> bytes:
    """The ZIP's bytes; a photo or document whose file is gone is left out, not an error."""
    documents = collect.documents(person)
    data = person_data(person, documents)
    storage = get_storage()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("BACA.txt", README)
        archive.writestr(
            "data.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        )
        for name, content in _tables(data).items():
            archive.writestr(name, content)
        files = dict(collect.photos(person))
        files.update({d["berkas"]: d["storage_key"] for d in documents})
        for name, key in files.items():
            if key and storage.exists(key):
                # Photos and PDFs are compressed already.
                archive.writestr(name, storage.get(key), compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()
