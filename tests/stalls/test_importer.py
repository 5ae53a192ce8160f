"""Spreadsheet import: header mapping, per-row validation, bad rows by line, idempotence."""

import csv
import io
import time

from openpyxl import Workbook
from sqlalchemy import func, select

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job, Stall, User
from promkm_qr.storage import get_storage
from promkm_qr.tasks.stalls import import_stalls
from tests.conftest import csrf_token

HEADER = [
    "Nama Usaha",
    "Nama Pemilik",
    "NIK Pemilik",
    "No. HP",
    "Kelurahan",
    "Kategori",
    "Alamat",
    "NIB",
]
GOOD = [
    [
        "Pecel Bu Tutik",
        "Tutik",
        "3577014107850002",
        "081211110001",
        "Oro-oro Ombo",
        "kuliner",
        "Jl. A 1",
        "",
    ],
    [
        "Toko Makmur",
        "Budi",
        "3577010101800003",
        "081211110002",
        "35.77.02.1001",
        "Sembako",
        "Jl. B 2",
        "1234567890123",
    ],
    ["Jahit Sri", "Sri", "3577015203900004", "+62 812-1111-0003", "Kelun", "jasa", "", ""],
]
BAD = [
    ["", "Tanpa Nama", "3577014107850002", "081211110004", "Kelun", "kuliner", "", ""],
    ["Lapak Salah NIK", "X", "12345", "081211110005", "Kelun", "kuliner", "", ""],
    ["Lapak Antah", "Y", "3577014107850006", "081211110006", "Atlantis", "kuliner", "", ""],
    ["Lapak Kategori", "Z", "3577014107850007", "081211110007", "Kelun", "otomotif", "", ""],
]


def _csv(rows, header=HEADER, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _run(data: bytes, filename: str) -> Job:
    key = f"imports/test-{filename}"
    get_storage().put(key, data)
    job = create_job("import", {"upload_key": key, "filename": filename})
    db.session.commit()
    import_stalls(job.id)
    db.session.rollback()
    return db.session.get(Job, job.id)


def _report(job: Job) -> list[list[str]]:
    text = get_storage().get(job.result_key).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))[1:]


def test_bad_rows_are_reported_by_line_and_good_rows_kept(app):
    rows = [GOOD[0], BAD[0], GOOD[1], BAD[1], BAD[2], GOOD[2], BAD[3]]
    job = _run(_csv(rows), "lapak.csv")
    assert job.state == "done"
    assert (job.total, job.done, job.failed) == (7, 7, 4)
    names = set(db.session.scalars(select(Stall.name)))
    assert names == {"Pecel Bu Tutik", "Toko Makmur", "Jahit Sri"}
    report = _report(job)
    assert [r[0] for r in report] == ["3", "5", "6", "8"]  # header is line 1
    assert report[0][1] == "name"
    assert "NIK" in report[1][2]
    assert report[2][1] == "kelurahan_id"
    assert "otomotif" in report[3][2]
    stall = db.session.scalar(select(Stall).where(Stall.name == "Toko Makmur"))
    assert stall.code.startswith("3577021001-")
    assert stall.status == "active"
    assert stall.owner.phone == "081211110002"
    assert db.session.scalar(select(Stall.phone).where(Stall.name == "Jahit Sri")) == "081211110003"


def test_reimporting_the_same_file_changes_nothing(app):
    data = _csv(GOOD)
    first = _run(data, "lapak.csv")
    before = db.session.execute(
        select(Stall.id, Stall.code, Stall.updated_at).order_by(Stall.id)
    ).all()
    users = db.session.scalar(select(func.count(User.id)))
    second = _run(data, "lapak.csv")
    after = db.session.execute(
        select(Stall.id, Stall.code, Stall.updated_at).order_by(Stall.id)
    ).all()
    assert first.params["counts"]["created"] == 3
    assert second.params["counts"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert before == after
    assert db.session.scalar(select(func.count(User.id))) == users
    assert second.result_key is None


def test_changed_row_updates_the_matching_stall(app):
    _run(_csv(GOOD), "lapak.csv")
    changed = [row[:] for row in GOOD]
    changed[0][6] = "Jl. Baru 9"
    job = _run(_csv(changed), "lapak.csv")
    assert job.params["counts"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert (
        db.session.scalar(select(Stall.address).where(Stall.name == "Pecel Bu Tutik"))
        == "Jl. Baru 9"
    )


def test_xlsx_with_semicolon_free_indonesian_headers(app):
    book = Workbook()
    sheet = book.active
    sheet.append(["NAMA UMKM", "nik", "Desa", "Alamat Usaha", "Jenis Usaha"])
    sheet.append(["Batik Bu Sri", 3577014107850002, "Oro-oro Ombo", "Jl. C", "Pakaian"])
    out = io.BytesIO()
    book.save(out)
    job = _run(out.getvalue(), "lapak.xlsx")
    assert job.state == "done" and job.failed == 0
    assert db.session.scalar(select(Stall.owner_nik)) == "3577014107850002"


def test_semicolon_csv(app):
    job = _run(_csv(GOOD, delimiter=";"), "lapak.csv")
    assert job.params["counts"]["created"] == 3


def test_file_without_usable_header_is_refused_listing_columns(client, operator):
    data = _csv(GOOD, header=["a", "b", "c", "d", "e", "f", "g", "h"])
    response = client.post(
        "/dinas/impor",
        data={
            "csrf_token": csrf_token(client, "/dinas/impor"),
            "file": (io.BytesIO(data), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Kolom yang diharapkan" in html
    for column in ("nama_usaha", "kelurahan", "nik_pemilik", "no_hp"):
        assert column in html
    assert db.session.scalar(select(func.count(Job.id))) == 0


def _finished(location: str) -> Job:
    """Wait for the session worker to finish the job a page redirected to.

    Waited for so the job's rows are not written while the next test clears the tables.
    """
    job_id = location.rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        if job.state in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("the import job did not finish")


def test_upload_starts_an_import_job(client, operator, worker):
    response = client.post(
        "/dinas/impor",
        data={
            "csrf_token": csrf_token(client, "/dinas/impor"),
            "file": (io.BytesIO(_csv(GOOD)), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "/dinas/jobs/" in response.headers["Location"]
    assert _finished(response.headers["Location"]).state == "done"


def test_xlsx_upload_is_checked_and_queued(client, operator, worker):
    book = Workbook()
    book.active.append(["Nama Usaha", "NIK Pemilik", "Kelurahan"])
    book.active.append(["Batik Bu Sri", "3577014107850002", "Oro-oro Ombo"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    response = client.post(
        "/dinas/impor",
        data={"csrf_token": csrf_token(client, "/dinas/impor"), "file": (out, "Data UMKM.XLSX")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job = _finished(response.headers["Location"])
    assert job.params["filename"] == "impor.xlsx"
    assert job.state == "done"


def test_a_formula_cell_is_refused_by_line_and_column_required_or_optional(app):
    book = Workbook()
    sheet = book.active
    sheet.append(["Nama Usaha", "NIK Pemilik", "Kelurahan", "Alamat"])
    sheet.append(["Pecel Bu Tutik", "3577014107850002", "Kelun", "Jl. A 1"])
    sheet.append(['=CONCAT("Toko ", "Makmur")', "3577010101800003", "Kelun", "Jl. B 2"])
    sheet.append(["Jahit Sri", "3577015203900004", "Kelun", '="Jl. "&"C 3"'])
    sheet["B5"] = "3577014107850006"
    sheet["A5"], sheet["C5"], sheet["D5"] = "Batik", "Kelun", "=D4"
    out = io.BytesIO()
    book.save(out)
    job = _run(out.getvalue(), "lapak.xlsx")
    assert job.state == "done" and job.failed == 3
    assert _report(job) == [
        ["3", "name", "Kolom A (Nama Usaha): rumus tidak diterima, isi nilainya."],
        ["4", "address", "Kolom D (Alamat): rumus tidak diterima, isi nilainya."],
        ["5", "address", "Kolom D (Alamat): rumus tidak diterima, isi nilainya."],
    ]
    # The good row is kept; no row is stored with a formula's text or an empty optional cell.
    assert db.session.scalars(select(Stall.name)).all() == ["Pecel Bu Tutik"]


def test_an_empty_file_is_refused_as_empty(client, operator):
    for name in ("lapak.csv", "lapak.xlsx"):
        response = client.post(
            "/dinas/impor",
            data={
                "csrf_token": csrf_token(client, "/dinas/impor"),
                "file": (io.BytesIO(b""), name),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert "Berkas kosong." in response.get_data(as_text=True)
