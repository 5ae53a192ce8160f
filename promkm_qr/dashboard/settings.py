"""The admin settings: quota rules, counted states, report ceiling, branding, privacy, sessions.

Values travel as the text a person typed, so a form with an error shows it back unchanged;
nothing is saved until every field is valid, and each change is written to the audit trail.
"""

import re

from flask_babel import gettext as _
from sqlalchemy import select

from promkm_qr import audit, retention
from promkm_qr.accounts import sessions
from promkm_qr.accounts.activation import VALID_DAYS_RANGE
from promkm_qr.core.money import format_rupiah, parse_rupiah
from promkm_qr.core.text import HiddenCharacter, check_text, whole_number
from promkm_qr.extensions import db
from promkm_qr.models import QuotaRule, Setting
from promkm_qr.models.report import REPORT_STATES
from promkm_qr.reference import get_setting

BRANDING_FIELDS = ("pemerintah", "dinas", "address", "city")
RULE_KINDS = ("fixed", "tpp_share")
PRIVACY_NOTICE_MAX = 10_000
# The reminders' settings (promkm_qr.notifications): key, smallest, largest (None: a time).
REMINDER_FIELDS = (
    ("send_at", None, None),
    ("quiet_start", None, None),
    ("quiet_end", None, None),
    ("shortfall_days", 1, 28),
    ("daily_cap", 1, 20),
    ("review_threshold", 1, 1_000_000),
    ("review_growth", 1, 1_000_000),
)
TEMPLATES = (
    "merchant_digest",
    "merchant_last_call",
    "asn_shortfall",
    "staff_review_queue",
    "staff_jobs_failed",
    "asn_report_disputed",
    "asn_report_rejected",
    "staff_review_growth",
)
CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
# Meta's rule for template names.
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")


def _rules() -> list[QuotaRule]:
    """The quota rules in a stable order."""
    return list(
        db.session.scalars(select(QuotaRule).order_by(QuotaRule.amount, QuotaRule.position_class))
    )


def current_values() -> dict:
    """The settings as form text."""
    values = {
        "counted": list(get_setting("counted_states")),
        "report_ceiling": format_rupiah(int(get_setting("report_ceiling"))),
    }
    branding = get_setting("branding") or {}
    values.update({f"brand_{k}": branding.get(k, "") for k in BRANDING_FIELDS})
    values.update({f"retention_{k}": str(v) for k, v in retention.periods().items()})
    values["privacy_notice"] = get_setting("privacy_notice")
    values["activation_code_days"] = str(get_setting("activation_code_days"))
    values.update({f"session_{k}": str(v) for k, v in get_setting("sessions").items()})
    reminders = get_setting("reminders")
    values.update({f"reminder_{k}": str(reminders[k]) for k, _low, _high in REMINDER_FIELDS})
    templates = reminders["whatsapp_templates"]
    values.update({f"template_{k}": v for k, v in templates.items() if k in TEMPLATES})
    for rule in _rules():
        values[f"kind_{rule.position_class}"] = rule.kind
        values[f"amount_{rule.position_class}"] = format_rupiah(rule.amount)
        values[f"pct_{rule.position_class}"] = (
            "" if rule.tpp_share_pct is None else str(rule.tpp_share_pct)
        )
    return values


def parse_values(form) -> tuple[dict, dict, dict]:
    """(text values to show again, parsed values, errors by field) from a submitted form."""
    shown, parsed, errors = {}, {"rules": {}}, {}
    shown["counted"] = [s for s in form.getlist("counted") if s in REPORT_STATES]
    if not shown["counted"]:
        errors["counted"] = _("Pilih paling sedikit satu status yang dihitung.")
    parsed["counted_states"] = shown["counted"]
    shown["report_ceiling"] = form.get("report_ceiling", "")
    try:
        parsed["report_ceiling"] = parse_rupiah(shown["report_ceiling"])
        if parsed["report_ceiling"] <= 0:
            errors["report_ceiling"] = _("Batas harus lebih dari nol.")
    except ValueError as exc:
        errors["report_ceiling"] = str(exc)
    branding = {}
    for key in BRANDING_FIELDS:
        shown[f"brand_{key}"] = branding[key] = form.get(f"brand_{key}", "").strip()[:200]
        if not branding[key]:
            errors[f"brand_{key}"] = _("Wajib diisi.")
        try:
            check_text(branding[key])
        except HiddenCharacter as exc:
            errors[f"brand_{key}"] = str(exc)
    parsed["branding"] = branding
    _parse_privacy(form, shown, parsed, errors)
    _parse_sessions(form, shown, parsed, errors)
    _parse_reminders(form, shown, parsed, errors)
    for rule in _rules():
        pc = rule.position_class
        kind, amount, pct = (form.get(f"{p}_{pc}", "").strip() for p in ("kind", "amount", "pct"))
        shown.update({f"kind_{pc}": kind, f"amount_{pc}": amount, f"pct_{pc}": pct})
        try:
            parsed_amount = parse_rupiah(amount)
        except ValueError as exc:
            errors[f"amount_{pc}"] = str(exc)
            continue
        if kind not in RULE_KINDS:
            errors[f"kind_{pc}"] = _("Pilih jenis kuota.")
        elif kind == "tpp_share" and not _within(pct, 1, 100):
            errors[f"pct_{pc}"] = _("Persentase TPP 1 sampai 100.")
        else:
            parsed["rules"][pc] = (kind, parsed_amount, int(pct) if kind == "tpp_share" else None)
    return shown, parsed, errors


def _within(text: str, low: int, high: int) -> bool:
    """Whether text is a whole number from low to high."""
    number = whole_number(text)
    return number is not None and low <= number <= high


def _whole_numbers(form, prefix: str, bounds, shown: dict, errors: dict) -> dict[str, int]:
    """Fields `<prefix>_<key>` holding whole numbers within (key, smallest, largest) bounds."""
    values = {}
    for key, low, high in bounds:
        name = f"{prefix}_{key}"
        text = shown[name] = form.get(name, "").strip()
        if not _within(text, low, high):
            errors[name] = _("Angka bulat %(low)s sampai %(high)s.", low=low, high=high)
        else:
            values[key] = int(text)
    return values


def _parse_privacy(form, shown: dict, parsed: dict, errors: dict) -> None:
    """Retention periods and code validity (whole numbers within bounds), the privacy text."""
    parsed["retention"] = _whole_numbers(form, "retention", retention.PERIODS, shown, errors)
    code_days = _whole_numbers(
        form, "activation", [("code_days", *VALID_DAYS_RANGE)], shown, errors
    )
    parsed["activation_code_days"] = code_days.get("code_days")
    # Line ends as typed in a browser (CRLF) are stored as plain newlines.
    notice = form.get("privacy_notice", "").replace("\r\n", "\n").strip()
    shown["privacy_notice"] = parsed["privacy_notice"] = notice
    if not notice:
        errors["privacy_notice"] = _("Wajib diisi.")
    elif len(notice) > PRIVACY_NOTICE_MAX:
        errors["privacy_notice"] = _("Paling banyak %(n)s karakter.", n=PRIVACY_NOTICE_MAX)
    else:
        try:
            check_text(notice)
        except HiddenCharacter as exc:
            errors["privacy_notice"] = str(exc)


def _parse_sessions(form, shown: dict, parsed: dict, errors: dict) -> None:
    """The staff session limits: whole numbers within bounds, idle no longer than the lifetime."""
    limits = _whole_numbers(form, "session", sessions.STAFF_LIMITS, shown, errors)
    parsed["sessions"] = limits
    if len(limits) == 2 and limits["staff_idle_minutes"] > limits["staff_absolute_hours"] * 60:
        errors["session_staff_idle_minutes"] = _("Tidak boleh lebih lama dari umur sesi.")


def _parse_reminders(form, shown: dict, parsed: dict, errors: dict) -> None:
    """The reminders' times (HH:MM, WIB), numbers within bounds and WhatsApp template names."""
    reminders = {}
    for key, low, high in REMINDER_FIELDS:
        text = shown[f"reminder_{key}"] = form.get(f"reminder_{key}", "").strip()
        if low is None:
            if not CLOCK.fullmatch(text):
                errors[f"reminder_{key}"] = _("Jam dan menit, misalnya 19:00.")
            reminders[key] = text
        elif not _within(text, low, high):
            errors[f"reminder_{key}"] = _(
                "Angka bulat %(low)s sampai %(high)s.", low=low, high=high
            )
        else:
            reminders[key] = int(text)
    templates = {}
    for key in TEMPLATES:
        text = shown[f"template_{key}"] = form.get(f"template_{key}", "").strip()
        if not TEMPLATE_NAME.fullmatch(text):
            errors[f"template_{key}"] = _("Huruf kecil, angka dan garis bawah.")
        templates[key] = text
    parsed["reminders"] = {**reminders, "whatsapp_templates": templates}


def save(parsed: dict, actor_id: int) -> int:
    """Store parsed settings; each changed value gets an audit entry. Returns how many changed."""
    changed = 0
    keys = ("counted_states", "report_ceiling", "branding", "retention", "privacy_notice")
    for key in (*keys, "activation_code_days", "sessions", "reminders"):
        old = get_setting(key)
        if old == parsed[key]:
            continue
        row = db.session.get(Setting, key) or Setting(key=key)
        row.value = parsed[key]
        db.session.add(row)
        audit.record(
            "setting.changed",
            "setting",
            key,
            actor_id=actor_id,
            data={"old": old, "new": parsed[key]},
        )
        changed += 1
    for rule in _rules():
        new = parsed["rules"][rule.position_class]
        old = (rule.kind, rule.amount, rule.tpp_share_pct)
        if old != new:
            rule.kind, rule.amount, rule.tpp_share_pct = new
            audit.record(
                "quota_rule.changed",
                "quota_rule",
                rule.position_class,
                actor_id=actor_id,
                data={"old": list(old), "new": list(new)},
            )
            changed += 1
    db.session.commit()
    return changed


def rule_classes() -> list[str]:
    """Position classes of the quota rules, in the order the form lists them."""
    return [rule.position_class for rule in _rules()]
