"""Staff accounts, settings and the public statistics page."""

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, Kecamatan, QuotaRule, User
from promkm_qr.reference import get_setting
from tests.conftest import csrf_token, login
from tests.dashboard.conftest import MARCH
from tests.factories import make_staff


def test_admin_adds_a_scoped_staff_member_and_deactivation_ends_sessions(client, app):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    taman = db.session.scalar(select(Kecamatan).where(Kecamatan.name == "Taman"))
    form = {
        "csrf_token": csrf_token(client, "/dinas/staf"),
        "username": "Peninjau1",
        "name": "Peninjau Taman",
        "staff_role": "reviewer",
        "scope": f"kec:{taman.id}",
        "password": "rahasia-123",
    }
    assert client.post("/dinas/staf", data=form).status_code == 302
    person = db.session.scalar(select(User).where(User.username == "peninjau1"))
    assert person.staff_role == "reviewer" and person.scope_kecamatan_id == taman.id
    other = app.test_client()
    # A new staff member enrolls in the second factor at the first sign-in.
    assert "Kode pemulihan" in login(other, "dinas", "peninjau1").get_data(as_text=True)
    assert other.get("/dinas/dasbor").status_code == 200
    edit = {**form, "csrf_token": csrf_token(client, f"/dinas/staf/{person.id}"), "password": ""}
    edit.pop("active", None)  # an unticked checkbox is simply absent
    assert client.post(f"/dinas/staf/{person.id}", data=edit).status_code == 302
    assert other.get("/dinas/dasbor").status_code == 302  # signed out
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.saved"))


def test_taken_username_keeps_what_was_typed(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = {
        "csrf_token": csrf_token(client, "/dinas/staf"),
        "username": "admin",
        "name": "Nama Yang Diketik",
        "staff_role": "viewer",
        "scope": "",
        "password": "rahasia-123",
    }
    response = client.post("/dinas/staf", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400  # a refused form, like every other one
    assert "sudah dipakai" in html and "Nama Yang Diketik" in html


def test_only_admins_manage_staff_and_settings(client):
    make_staff("operator", username="op")
    login(client, "dinas", "op")
    assert client.get("/dinas/staf").status_code == 403
    assert client.get("/dinas/pengaturan").status_code == 403


def _settings_form(client, **changes):
    html_token = csrf_token(client, "/dinas/pengaturan")
    form = {
        "csrf_token": html_token,
        "counted": ["confirmed", "verified"],
        "report_ceiling": "Rp2.500.000",
        "brand_pemerintah": "Pemerintah Kota Madiun",
        "brand_dinas": "Dinas Koperasi",
        "brand_address": "Jl. Pahlawan 37",
        "brand_city": "Madiun",
        "retention_photo_months": "24",
        "retention_position_months": "24",
        "retention_address_days": "90",
        "activation_code_days": "30",
        "session_staff_idle_minutes": "30",
        "session_staff_absolute_hours": "12",
        "retention_message_days": "90",
        "reminder_send_at": "19:00",
        "reminder_quiet_start": "21:00",
        "reminder_quiet_end": "06:00",
        "reminder_shortfall_days": "5",
        "reminder_daily_cap": "3",
        "reminder_review_threshold": "200",
        "reminder_review_growth": "100",
        "template_merchant_digest": "pengingat_konfirmasi",
        "template_merchant_last_call": "pengingat_konfirmasi_terakhir",
        "template_asn_shortfall": "pengingat_kuota",
        "template_staff_review_queue": "antrean_tinjauan",
        "template_staff_jobs_failed": "pekerjaan_gagal",
        "template_asn_report_disputed": "laporan_dibantah",
        "template_asn_report_rejected": "laporan_ditolak",
        "template_staff_review_growth": "antrean_bertambah",
        "privacy_notice": get_setting("privacy_notice"),
    }
    for rule in db.session.scalars(select(QuotaRule)):
        form[f"kind_{rule.position_class}"] = rule.kind
        form[f"amount_{rule.position_class}"] = str(rule.amount)
        form[f"pct_{rule.position_class}"] = ""
    form.update(changes)
    return form


def test_settings_change_is_stored_audited_and_changes_the_counts(client, city):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = _settings_form(
        client, kind_pelaksana="tpp_share", amount_pelaksana="60.000", pct_pelaksana="5"
    )
    assert client.post("/dinas/pengaturan", data=form).status_code == 302
    db.session.expire_all()
    assert get_setting("counted_states") == ["confirmed", "verified"]
    assert get_setting("report_ceiling") == 2_500_000
    rule = db.session.scalar(select(QuotaRule).where(QuotaRule.position_class == "pelaksana"))
    assert (rule.kind, rule.amount, rule.tpp_share_pct) == ("tpp_share", 60_000, 5)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"setting.changed", "quota_rule.changed"} <= actions
    html = client.get("/dinas/dasbor", query_string=MARCH).get_data(as_text=True)
    assert (
        "Rp75.000" in html and "Dikonfirmasi penjual, Diverifikasi dinas" in html
    )  # 50k verified + 25k confirmed


def test_settings_error_keeps_typed_values_and_saves_nothing(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = _settings_form(client, report_ceiling="dua juta", brand_dinas="Dinas Baru Diketik")
    response = client.post("/dinas/pengaturan", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "dua juta" in html and "Dinas Baru Diketik" in html
    assert get_setting("branding")["dinas"] != "Dinas Baru Diketik"


def test_public_statistics_without_sign_in_and_without_names(client, city, monkeypatch):
    from promkm_qr.dashboard import public

    monkeypatch.setattr(public, "recent_months", lambda count: ["2026-02", "2026-03"])
    response = client.get("/statistik")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rp160.000" in html and "Rp40.000" in html  # March and February city totals
    for private in ("Ani Kartika", "Budi Santoso", "Warung Utara", city["asn_a"].nip):
        assert private not in html
