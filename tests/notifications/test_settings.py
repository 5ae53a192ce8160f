"""The reminders' settings on the admin settings page."""

from datetime import datetime, timedelta

import pytest

from promkm_qr.extensions import db
from promkm_qr.notifications import compose
from promkm_qr.reference import get_setting
from tests.conftest import login
from tests.dashboard.test_admin_pages import _settings_form
from tests.factories import make_asn, make_merchant, make_report, make_staff, make_stall


def test_the_admin_sets_the_send_time_quiet_hours_caps_and_templates(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    page = client.get("/dinas/pengaturan").get_data(as_text=True)
    assert 'name="reminder_send_at" value="19:00"' in page
    form = _settings_form(
        client,
        reminder_send_at="17:30",
        reminder_quiet_start="22:00",
        reminder_daily_cap="2",
        template_asn_shortfall="kuota_bulanan",
    )
    assert client.post("/dinas/pengaturan", data=form).status_code == 302
    db.session.expire_all()
    assert get_setting("reminders") == {
        "send_at": "17:30",
        "quiet_start": "22:00",
        "quiet_end": "06:00",
        "shortfall_days": 5,
        "daily_cap": 2,
        "review_threshold": 200,
        "review_growth": 100,
        "whatsapp_templates": {
            "merchant_digest": "pengingat_konfirmasi",
            "merchant_last_call": "pengingat_konfirmasi_terakhir",
            "asn_shortfall": "kuota_bulanan",
            "staff_review_queue": "antrean_tinjauan",
            "staff_jobs_failed": "pekerjaan_gagal",
            "asn_report_disputed": "laporan_dibantah",
            "asn_report_rejected": "laporan_ditolak",
            "staff_review_growth": "antrean_bertambah",
        },
    }
    # The digest now goes at 17:30 WIB.
    make_report(make_asn(), make_stall(owner=make_merchant()), purchased_at=datetime(2026, 12, 3))
    assert compose.compose_due(datetime(2026, 12, 4, 10, 29)) is None
    assert compose.compose_due(datetime(2026, 12, 4, 10, 30)) == {"sent": 1}
    assert compose.compose_due(datetime(2026, 12, 4, 10, 30) + timedelta(hours=1)) is None


def test_a_malformed_time_or_template_is_refused(client):
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    form = _settings_form(client, reminder_send_at="7 malam", template_merchant_digest="Nama Besar")
    response = client.post("/dinas/pengaturan", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Jam dan menit, misalnya 19:00." in html and "Huruf kecil, angka dan garis bawah." in html
    )
    db.session.expire_all()
    assert get_setting("reminders")["send_at"] == "19:00"


BOUNDS = {"shortfall_days": (1, 28), "daily_cap": (1, 20), "review_threshold": (1, 1_000_000)}


def _refused(client, field: str, typed: str, good: dict, message: str) -> None:
    """Post the settings with `typed` in one reminder field and a good change in another:
    refused with the message at the field, the typed values shown again, nothing saved."""
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    saved = get_setting("reminders")
    form = _settings_form(client, **{f"reminder_{field}": typed, **good})
    response = client.post("/dinas/pengaturan", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    alert = f'name="reminder_{field}" value="{typed}"><p class="error" role="alert">{message}'
    assert alert in html
    ((name, value),) = good.items()
    assert f'name="{name}" value="{value}"' in html
    db.session.expire_all()
    assert get_setting("reminders") == saved


@pytest.mark.parametrize(
    "field, typed",
    [
        *((f, t) for f in BOUNDS for t in ("0", "-3", "lima", "2.5", "", "³", "1e3")),
        ("shortfall_days", "29"),
        ("daily_cap", "21"),
        ("review_threshold", "1000001"),
        ("review_growth", "-100"),
        ("review_growth", "99999999999999999999999"),
    ],
)
def test_a_reminder_number_out_of_range_or_not_a_number_is_refused(client, field, typed):
    low, high = BOUNDS.get(field, (1, 1_000_000))
    message = f"Angka bulat {low} sampai {high}."
    _refused(client, field, typed, {"reminder_send_at": "17:00"}, message)


@pytest.mark.parametrize("field", ["send_at", "quiet_start", "quiet_end"])
@pytest.mark.parametrize("typed", ["24:00", "-1:00", "7:00", "19.00", "19:60", "jam tujuh", ""])
def test_a_reminder_hour_that_is_not_a_clock_time_is_refused(client, field, typed):
    message = "Jam dan menit, misalnya 19:00."
    _refused(client, field, typed, {"reminder_daily_cap": "5"}, message)
