"""Names and free text with bidirectional or control characters are refused at every entry.

"Warung \\u202eirS uB" displays as "Warung Bu Sri" but is stored, searched and printed as
"irS uB". Each way text gets in (every form, the stall services behind the hand-built pages,
both imports, reasons, settings, OPD and category names, the command line) refuses it with a
message that names the hidden character.
"""

import io

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, PasswordField, StringField

from promkm_qr.extensions import db
from promkm_qr.models import Category, Opd, PurchaseReport, Setting, Stall, User
from promkm_qr.stalls import registry
from tests.conftest import csrf_token, login
from tests.factories import kelurahan, make_asn, make_merchant, make_report, make_staff, make_stall
from tests.support.spreadsheets import csv_bytes

REVERSED = "Warung \u202eirS uB"
CODE = "U+202E"


def _form_classes(cls=FlaskForm):
    """Every form class of the app, found by subclassing, so a new one cannot be missed."""
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("promkm_qr."):
            yield sub
        yield from _form_classes(sub)


def _typed_fields(form) -> list[str]:
    return [
        name
        for name, field in form._fields.items()
        if isinstance(field, StringField) and not isinstance(field, HiddenField | PasswordField)
    ]


def test_every_form_refuses_hidden_characters_in_each_text_field(app):
    checked = []
    for form_class in set(_form_classes()):
        with app.test_request_context(method="POST"):
            names = _typed_fields(form_class(meta={"csrf": False}))
        for name in names:
            with app.test_request_context(method="POST", data={name: REVERSED}):
                form = form_class(formdata=MultiDict({name: REVERSED}), meta={"csrf": False})
                form.validate()
                assert any(CODE in str(e) for e in form.errors.get(name, [])), (form_class, name)
            checked.append(f"{form_class.__name__}.{name}")
    # The forms people type names and reasons into are among those walked.
    assert {"PurchaseForm.description", "DisputeForm.note", "StaffForm.name"} <= set(checked)
    assert "WithdrawForm.reason" in checked


def test_the_stall_services_refuse_names_and_addresses_with_hidden_characters(app):
    kel = kelurahan()
    base = {"kelurahan_id": kel.id, "owner_nik": "3577014107850002", "name": "Warung Bu Sri"}
    for field, value in (("name", REVERSED), ("address", "Jl. \u2067Pahlawan"), ("name", "A\x1fB")):
        with pytest.raises(registry.StallInvalid) as refused:
            registry.clean({**base, field: value})
        assert "karakter tersembunyi" in refused.value.errors[field]


def test_the_stall_form_refuses_a_reversed_name_and_shows_it_back(client):
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    url = "/dinas/lapak/baru"
    data = {
        "csrf_token": csrf_token(client, url),
        "name": REVERSED,
        "kelurahan_id": str(kelurahan().id),
        "owner_nik": "3577014107850002",
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert CODE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Stall.id))) == 0


def test_merchant_registration_refuses_a_reversed_name(client):
    make_merchant(phone="081299990000")
    login(client, "merchant", "081299990000")
    url = "/umkm/lapak/daftar"
    data = {
        "csrf_token": csrf_token(client, url),
        "name": REVERSED,
        "kelurahan_id": str(kelurahan().id),
        "owner_nik": "3577015203900004",
    }
    response = client.post(url, data=data)
    assert response.status_code == 400 and CODE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Stall.id))) == 0


def test_the_stall_import_refuses_the_row_and_names_the_column(app):
    from tests.stalls.test_importer import _report, _run

    head = ["Nama Usaha", "Nama Pemilik", "NIK Pemilik", "No. HP", "Kelurahan"]
    rows = [
        ["Pecel Bu Tutik", "Tutik", "3577014107850002", "081211110001", "Kelun"],
        ["Toko Makmur", "Bu\u202edi", "3577010101800003", "081211110002", "Kelun"],
    ]
    job = _run(csv_bytes([head, *rows]), "lapak.csv")
    assert job.state == "done" and job.failed == 1
    [(line, column, reason)] = _report(job)
    assert (line, column) == ("3", "owner_name") and CODE in reason
    assert db.session.scalars(select(Stall.name)).all() == ["Pecel Bu Tutik"]
    assert db.session.scalar(select(func.count(User.id)).where(User.name.contains("\u202e"))) == 0


def test_the_roster_import_refuses_the_row_and_names_the_column(client):
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    body = "NIP;Nama;OPD;Kelas Jabatan\n198609262015051001;Sri \u202eRahayu;Dinkes;Pelaksana\n"
    response = client.post(
        "/dinas/asn",
        data={
            "csrf_token": csrf_token(client, "/dinas/asn"),
            "berkas": (io.BytesIO(body.encode()), "roster.csv"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert "<td>2</td>" in html and "Kolom B (Nama)" in html and CODE in html
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "asn")) == 0


def test_a_review_reason_with_hidden_characters_decides_nothing(client):
    report = make_report(make_asn(), make_stall(), flags=["amount"])
    make_staff("reviewer", username="peninjau")
    login(client, "dinas", "peninjau")
    data = {
        "csrf_token": csrf_token(client, "/dinas/tinjauan"),
        "decision": "rejected",
        "reason": "Foto \u202eulang",
        "report_id": [report.id],
    }
    response = client.post("/dinas/tinjauan/putuskan", data=data, follow_redirects=True)
    assert CODE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PurchaseReport, report.id).state == "submitted"


def test_branding_opd_and_category_names_refuse_hidden_characters(client):
    from promkm_qr.dashboard.settings import current_values

    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    with client.application.test_request_context():
        values = current_values()
    response = client.post(
        "/dinas/pengaturan",
        data={
            **values,
            "csrf_token": csrf_token(client, "/dinas/pengaturan"),
            "brand_dinas": "\u2066Dinas",
        },
    )
    assert response.status_code == 400 and "U+2066" in response.get_data(as_text=True)
    db.session.expire_all()
    assert "\u2066" not in db.session.get(Setting, "branding").value["dinas"]

    token = csrf_token(client, "/dinas/asn")
    response = client.post(
        "/dinas/opd",
        data={"csrf_token": token, "code": "DINKES", "name": "Dinas \u202eKesehatan"},
        follow_redirects=True,
    )
    assert CODE in response.get_data(as_text=True)
    assert db.session.scalar(select(Opd).where(Opd.code == "DINKES")) is None

    before = db.session.scalar(select(func.count(Category.id)))
    response = client.post(
        "/dinas/kategori",
        data={"csrf_token": csrf_token(client, "/dinas/kategori"), "name": "Oto\u202emotif"},
        follow_redirects=True,
    )
    assert CODE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Category.id))) == before


def test_the_command_line_refuses_an_account_name_with_hidden_characters(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--role",
            "dinas",
            "--name",
            REVERSED,
            "--login",
            "petugas",
            "--password",
            "rahasia-123",
        ]
    )
    assert result.exit_code != 0 and CODE in result.output
    assert db.session.scalar(select(User).where(User.username == "petugas")) is None
