"""Roster import: a new ASN, a changed OPD, a removed ASN and a bad NIP row."""

import io
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, AuditEntry, Job, Opd, User
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_opd, make_staff

STAYS, MOVES, LEAVES = "198609262015051001", "199001012015032002", "198502142010011003"
NEW = "199203152019032004"
HEADER = "NIP;Nama;OPD;Kelas Jabatan;Golongan;TPP\n"


def _upload(client, body: bytes, filename: str = "roster.csv"):
    token = csrf_token(client, "/dinas/asn")
    return client.post(
        "/dinas/asn",
        data={"csrf_token": token, "berkas": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def _setup(client):
    dinkes, bappeda = make_opd("DINKES", "Dinas Kesehatan"), make_opd("BAPPEDA", "Bappeda")
    make_asn(nip=STAYS, name="Tetap", opd=dinkes)
    make_asn(nip=MOVES, name="Pindah", opd=dinkes)
    leaver = make_asn(nip=LEAVES, name="Keluar", opd=bappeda)
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    return leaver


def test_import_creates_moves_and_deactivates(client):
    leaver = _setup(client)
    version = leaver.session_version
    body = (
        HEADER
        + f"{STAYS};Tetap Sekali;Dinas Kesehatan;Pelaksana;III/a;\n"
        + f"{MOVES};Pindah;BAPPEDA;Eselon IV;III/c;4.500.000\n"
        + f"{NEW};Baru Masuk;Dinas Pendidikan;Pelaksana;II/c;\n"
    )
    response = _upload(client, body.encode())
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalar(select(User).where(User.nip == NEW))
    assert new.password_hash is None and new.activation_code_hash and new.asn.on_roster
    assert new.asn.opd.name == "Dinas Pendidikan"  # an OPD not yet listed is added
    moved = db.session.scalar(select(User).where(User.nip == MOVES))
    assert moved.asn.opd.code == "BAPPEDA" and moved.asn.position_class == "eselon-iv"
    assert moved.asn.tpp_amount == 4_500_000
    assert db.session.scalar(select(User).where(User.nip == STAYS)).name == "Tetap Sekali"
    gone = db.session.get(User, leaver.id)
    assert not gone.active and not gone.asn.on_roster and gone.session_version == version + 1
    job = db.session.scalar(select(Job).where(Job.kind == "roster_import"))
    assert (
        job.params["created"] == 1 and job.params["moved"] == 1 and job.params["deactivated"] == 1
    )
    codes = client.get(f"/dinas/jobs/{job.id}/hasil", buffered=True).get_data(as_text=True)
    assert NEW in codes and STAYS not in codes
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.imported"))


def test_a_bad_nip_row_is_reported_by_line_and_nothing_changes(client):
    _setup(client)
    body = (
        HEADER
        + f"{STAYS};Tetap;Dinas Kesehatan;Pelaksana;III/a;\n"
        + "19861326201505 1 001;Salah Tanggal;Dinas Kesehatan;Pelaksana;III/a;\n"
        + f"{NEW};Baru;Dinas Kesehatan;Direktur;III/a;\n"
    )
    response = _upload(client, body.encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 400  # a refused form, like every other one
    assert "<td>3</td>" in html and "NIP tidak sah" in html
    assert "<td>4</td>" in html and "Kelas jabatan tidak dikenal" in html
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.nip == NEW)) is None
    assert all(p.on_roster for p in db.session.scalars(select(AsnProfile)))


def test_xlsx_roster_as_bkpsdm_exports_it(client):
    _setup(client)
    book = Workbook()
    sheet = book.active
    sheet.append(["NIP", "Nama", "Unit Kerja", "Jabatan", "Golongan"])
    for nip, name in ((STAYS, "Tetap"), (MOVES, "Pindah"), (LEAVES, "Keluar"), (NEW, "Baru")):
        sheet.append([nip, name, "Dinas Kesehatan", "Pelaksana", "III/a"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert _upload(client, buffer.getvalue(), "roster.xlsx").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.nip == NEW)).asn.opd.code == "DINKES"
    assert db.session.scalar(select(Opd).where(Opd.name == "Dinas Kesehatan"))


def test_roster_is_for_city_wide_operators_only(client, app):
    make_staff("viewer", username="pengamat")
    login(client, "dinas", "pengamat")
    assert client.get("/dinas/asn").status_code == 403
    scoped = app.test_client()
    make_staff("operator", username="opkec", scope_kelurahan_id=1)
    login(scoped, "dinas", "opkec")
    assert scoped.get("/dinas/asn").status_code == 403


def test_opd_list_is_editable_and_codes_stay_unique(client):
    _setup(client)
    dinkes = db.session.scalar(select(Opd).where(Opd.code == "DINKES"))
    token = csrf_token(client, "/dinas/asn")
    client.post(
        "/dinas/opd",
        data={"csrf_token": token, "opd_id": dinkes.id, "code": "dinkes", "name": "Dinkes Kota"},
    )
    client.post(
        "/dinas/opd", data={"csrf_token": token, "code": "DISDIK", "name": "Dinas Pendidikan"}
    )
    response = client.post(
        "/dinas/opd", data={"csrf_token": token, "code": "BAPPEDA", "name": "Dobel"}
    )
    db.session.expire_all()
    assert db.session.get(Opd, dinkes.id).name == "Dinkes Kota"
    assert db.session.scalar(select(Opd).where(Opd.code == "DISDIK")).name == "Dinas Pendidikan"
    assert db.session.scalar(select(Opd).where(Opd.name == "Dobel")) is None
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sudah dipakai" in html and html.count("Daftar OPD") == 1


def test_a_formula_cell_is_refused_by_line_and_column_and_nothing_changes(client):
    _setup(client)
    book = Workbook()
    sheet = book.active
    sheet.append(["NIP", "Nama", "OPD", "Kelas Jabatan", "TPP"])
    sheet.append([STAYS, "Tetap", "Dinas Kesehatan", "Pelaksana", "=4500000*1"])
    sheet.append([NEW, '=PROPER("baru masuk")', "Dinas Kesehatan", "Pelaksana", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(client, buffer.getvalue(), "roster.xlsx")
    html = response.get_data(as_text=True)
    assert "<td>2</td><td>Kolom E (TPP): rumus tidak diterima, isi nilainya.</td>" in html
    assert "<td>3</td><td>Kolom B (Nama): rumus tidak diterima, isi nilainya.</td>" in html
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.nip == NEW)) is None


def test_an_empty_roster_file_is_refused_as_empty(client):
    _setup(client)
    for name in ("roster.csv", "roster.xlsx"):
        assert "Berkas kosong." in _upload(client, b"", name).get_data(as_text=True)


def test_unreadable_file_is_refused_with_400(client):
    _setup(client)
    response = _upload(client, b"just text", "roster.txt")
    assert response.status_code == 400
    assert "CSV atau XLSX" in response.get_data(as_text=True)


def test_xlsx_nip_stored_as_a_number_says_excel_lost_the_digits(client):
    _setup(client)
    book = Workbook()
    sheet = book.active
    sheet.append(["NIP", "Nama", "Unit Kerja", "Jabatan", "Golongan"])
    sheet.append([STAYS, "Tetap", "Dinas Kesehatan", "Pelaksana", "III/a"])
    sheet.append([float(NEW), "Baru", "Dinas Kesehatan", "Pelaksana", "III/a"])  # as Excel does
    sheet.append([int(MOVES), "Pindah", "Dinas Kesehatan", "Pelaksana", "III/a"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(client, buffer.getvalue(), "roster.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.count("Excel") == 2 and "Teks" in html and "hanya boleh berisi angka" not in html
    assert "<td>3</td>" in html and "<td>4</td>" in html and "<td>2</td>" not in html
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.nip == NEW)) is None


@pytest.mark.timeout(120)
def test_a_first_roster_of_thousands_imports_within_one_request(client):
    # Each new ASN gets a code; hashed with scrypt (0.3 s each) 1,500 took over 7 minutes.
    _setup(client)
    lines = [f"{STAYS};Tetap;Dinas Kesehatan;Pelaksana;III/a;"] + [
        f"19860926{2010 + i % 10}0{1 + i % 9}1{i % 1000:03d};ASN {i};Dinas {i % 40};Pelaksana;;"
        for i in range(1500)
    ]
    started = time.monotonic()
    response = _upload(client, (HEADER + "\n".join(lines)).encode())
    assert response.status_code == 302
    assert time.monotonic() - started < 25  # gunicorn ends a request after 30 s
    job = db.session.scalar(select(Job).where(Job.kind == "roster_import"))
    codes = client.get(f"/dinas/jobs/{job.id}/hasil", buffered=True).get_data(as_text=True)
    assert len(codes.strip().splitlines()) == 1 + 1500
