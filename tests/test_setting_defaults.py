"""A dict setting saved before a key was added to its default still has that key."""

from promkm_qr.extensions import db
from promkm_qr.models import Setting
from promkm_qr.reference import DEFAULT_SETTINGS, get_setting
from tests.asn.test_submission_queries import statements


def _save_old_shape(key: str, value) -> None:
    db.session.get(Setting, key).value = value
    db.session.commit()


def test_an_old_reminders_row_gets_the_keys_added_since(app):
    # As saved before daily_cap, the review counts and some templates existed.
    old = {
        "send_at": "18:00",
        "shortfall_days": 3,
        "quiet_start": "21:00",
        "quiet_end": "06:00",
        "whatsapp_templates": {"merchant_digest": "kota_pengingat"},
    }
    _save_old_shape("reminders", old)
    reminders = get_setting("reminders")
    assert reminders["daily_cap"] == DEFAULT_SETTINGS["reminders"]["daily_cap"]
    assert reminders["review_threshold"] == 200
    # What the city saved wins; nested dicts are filled the same way.
    assert reminders["send_at"] == "18:00" and reminders["shortfall_days"] == 3
    templates = reminders["whatsapp_templates"]
    assert templates["merchant_digest"] == "kota_pengingat"
    assert templates["asn_shortfall"] == "pengingat_kuota"
    # The defaults themselves are untouched.
    assert DEFAULT_SETTINGS["reminders"]["send_at"] == "19:00"
    assert "daily_cap" not in db.session.get(Setting, "reminders").value


def test_an_old_sessions_row_still_reads_once_per_transaction(app):
    _save_old_shape("sessions", {"staff_idle_minutes": 15})
    with statements() as seen:
        assert get_setting("sessions") == {"staff_idle_minutes": 15, "staff_absolute_hours": 12}
        assert get_setting("retention")["photo_months"] == 24
    assert sum("FROM settings" in s for s in seen) == 1


def test_a_value_that_is_not_a_dict_is_returned_as_saved(app):
    _save_old_shape("counted_states", ["confirmed"])
    assert get_setting("counted_states") == ["confirmed"]
