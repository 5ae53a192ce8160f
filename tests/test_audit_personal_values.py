"""The audit trail names people by id only, and staff views of ASN data are recorded.

The flows that write audit entries are driven with people whose names, NIK, NIP, phone
numbers and usernames are known, typed also into every free-text reason; no entry's data
may hold any of them.
"""

import json

from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.accounts import activation
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry
from promkm_qr.reports import amend, review
from promkm_qr.stalls import registry
from promkm_qr.stalls.links import link_token
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_merchant, make_report, make_staff, make_stall

NAME, NIP, NIK, PHONE = "Ratna Kusumawati", "198703122010012003", "3577015203870001", "081377778888"
OWNER, OWNER_NIK, OWNER_PHONE = "Joko Widagdo", "3577014107850002", "081355551234"
STAFF_NAME, STAFF_USER = "Wulan Sarinah", "wulan.sarinah"
KNOWN = (NAME, NIP, NIK, PHONE, OWNER, OWNER_NIK, OWNER_PHONE, STAFF_NAME, STAFF_USER)
WITH_NAMES = f"{NAME} NIK {NIK}, HP {PHONE}"


def _post(client, page: str, url: str, **data):
    response = client.post(url, data={"csrf_token": csrf_token(client, page), **data})
    assert response.status_code in (200, 302), (url, response.status_code)
    return response


def test_no_audit_entry_holds_a_personal_value(app):
    admin = make_staff("admin", username="admin")
    asn = make_asn(nip=NIP, name=NAME, nik=NIK, password=None)
    asn.phone = PHONE
    merchant = make_merchant(phone=OWNER_PHONE, name=OWNER)
    stall = make_stall(owner=merchant, owner_nik=OWNER_NIK, phone=OWNER_PHONE)
    colleague = make_staff("viewer", username=STAFF_USER)
    colleague.name = STAFF_NAME
    db.session.commit()
    staff = app.test_client()
    login(staff, "dinas", "admin")

    # Access reset and activation.
    _post(staff, f"/dinas/asn/{asn.id}/akses", f"/dinas/asn/{asn.id}/akses")
    code = activation.reset_access(asn, admin.id)
    db.session.commit()
    activation.activate("asn", NIP, code, "Kunci-rahasia-2026")
    person = app.test_client()
    assert login(person, "asn", NIP, "Kunci-rahasia-2026").status_code == 302

    # A report through the form, edited, disputed with names in the note, rejected likewise.
    form_url = f"/asn/lapor/{link_token(stall.code, stall.poster_version)}"
    sent = post(person, form_url, report_data(open_form(person, form_url), jpeg_bytes(400, 300)))
    assert sent.status_code == 302
    report = make_report(asn, stall, 40_000)
    amend.edit_report(report.id, asn.id, {"description": WITH_NAMES, "amount": 41_000})
    review.dispute(report.id, merchant.id, "other", WITH_NAMES)
    db.session.commit()
    review.decide([report.id], admin, "rejected", f"Ditolak: {WITH_NAMES}")
    db.session.commit()
    other = make_report(asn, stall, 15_000)
    amend.withdraw_report(other.id, asn.id, WITH_NAMES)

    # The stall owner's data changed; staff accounts saved, reset; an export asked for.
    registry.update_stall(stall, {"phone": "081399990000", "owner_nik": NIK}, actor_id=admin.id)
    db.session.commit()
    _post(
        staff,
        f"/dinas/staf/{colleague.id}",
        f"/dinas/staf/{colleague.id}",
        username=STAFF_USER,
        name=STAFF_NAME,
        staff_role="viewer",
        scope="",
        password="sandi-baru-yang-panjang-1",
        active="y",
    )
    _post(staff, f"/dinas/staf/{colleague.id}", f"/dinas/staf/{colleague.id}/dua-langkah")
    _post(staff, f"/dinas/asn/{asn.id}/akses", f"/dinas/asn/{asn.id}/data", reason="Surat 12")
    # Pages that show personal data, each recorded.
    for url in ("/dinas/asn", f"/dinas/lapak/{stall.id}", "/dinas/tinjauan?status=rejected"):
        assert staff.get(url).status_code == 200

    db.session.rollback()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = {e.action for e in entries}
    assert {
        "account.access_reset",
        "account.activated",
        "report.submitted",
        "report.edited",
        "report.disputed",
        "report.rejected",
        "report.withdrawn",
        "stall.updated",
        "staff.saved",
        "staff.password_reset",
        "staff.second_factor_reset",
        "personal_data.export_requested",
        "personal_data.viewed",
    } <= actions, actions
    for entry in entries:
        text = json.dumps([entry.data, entry.object_id], ensure_ascii=False)
        for value in KNOWN:
            assert value not in text, (entry.action, value, text)
    edited = next(e for e in entries if e.action == "report.edited")
    assert edited.data == {"fields": ["amount", "description"]}
    rejected = next(e for e in entries if e.action == "report.rejected")
    assert rejected.data == {"from": "disputed", "reason_given": True, "fields": []}
    assert audit.verify_chain() is None


def _views(action: str = "personal_data.viewed") -> list[AuditEntry]:
    db.session.rollback()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    ).all()


def test_staff_views_of_asn_personal_data_are_recorded(app, client):
    operator = make_staff("operator", username="op")
    shown = [make_asn(name=f"Pegawai {n}") for n in range(3)]
    stall = make_stall()
    make_report(shown[0], stall, 20_000, state="disputed")
    login(client, "dinas", "op")

    html = client.get("/dinas/asn").get_data(as_text=True)
    assert shown[0].nip in html
    [roster] = _views()
    assert (roster.actor_id, roster.object_type, roster.object_id) == (operator.id, "user", None)
    assert roster.data == {
        "page": "/dinas/asn",
        "shown": {"nip": "full", "name": "full"},
        "ids": sorted(u.id for u in shown),
    }

    client.get(f"/dinas/asn/{shown[1].id}/akses")
    access = _views()[-1]
    assert access.object_id == str(shown[1].id)
    assert access.data == {
        "page": f"/dinas/asn/{shown[1].id}/akses",
        "shown": {"nip": "full", "name": "full"},
    }

    make_staff("reviewer", username="rev")
    reviewer = client.application.test_client()
    login(reviewer, "dinas", "rev")
    assert "Pegawai 0" in reviewer.get("/dinas/tinjauan").get_data(as_text=True)
    queue = _views()[-1]
    assert queue.data["ids"] == [shown[0].id] and queue.data["shown"] == {"name": "full"}

    response = client.get("/dinas/ekspor/asn.csv")
    assert response.status_code == 200 and shown[2].nip in response.get_data(as_text=True)
    [export] = _views("personal_data.exported")
    assert (export.actor_id, export.object_id) == (operator.id, "asn")
    assert export.data == {
        "page": "/dinas/ekspor/asn.csv",
        "shown": {"nip": "full", "name": "full"},
    }

    # A search by name is not copied into the trail.
    client.get("/dinas/asn?q=Pegawai")
    assert "Pegawai" not in json.dumps(_views()[-1].data)
    assert audit.verify_chain() is None


def test_the_activation_code_validity_is_an_admin_setting(app, client):
    from tests.dashboard.test_admin_pages import _settings_form

    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    refused = client.post(
        "/dinas/pengaturan", data=_settings_form(client, activation_code_days="0")
    )
    assert refused.status_code == 400
    form = _settings_form(client, activation_code_days="7")
    assert client.post("/dinas/pengaturan", data=form).status_code == 302
    asn = make_asn(password=None)
    activation.reset_access(asn, None)
    db.session.commit()
    days = (asn.activation_expires_at - asn.created_at).days
    assert days in (6, 7)
    assert "paling lama 7 hari" in client.get("/privasi").get_data(as_text=True)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_id == "activation_code_days")
    )
    assert entry.data == {"old": 30, "new": 7}
