"""Reference data: regions from CSV, default categories, quota rules and settings."""

import csv
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from promkm_qr.extensions import db
from promkm_qr.models import Category, Kecamatan, Kelurahan, QuotaRule, Setting

CATEGORIES = [
    ("kuliner", "Kuliner"),
    ("sembako", "Sembako"),
    ("sayur-buah", "Sayur & buah"),
    ("pakaian", "Pakaian"),
    ("kerajinan", "Kerajinan"),
    ("jasa", "Jasa"),
    ("lainnya", "Lainnya"),
]

# Probolinggo's rule (Instruksi Bupati 9/2024) as the default; dinas edit it.
QUOTA_RULES = [
    ("pelaksana", 50_000),
    ("eselon-iv", 75_000),
    ("eselon-iii", 100_000),
    ("kepala-opd", 150_000),
    ("eselon-ii", 200_000),
]

# The privacy page's text until the city edits it (plain text, paragraphs split by blank lines).
PRIVACY_NOTICE = """\
Pemerintah Kota Madiun melalui dinas yang membina UMKM mengolah data pribadi dalam aplikasi ini \
untuk menjalankan tugas pelayanan publik: memantau belanja Aparatur Sipil Negara (ASN) di usaha \
mikro, kecil dan menengah (UMKM) Kota Madiun dan menyusun rekap serta tanda terima bulanan.

Data yang dikumpulkan: NIP, nama dan unit kerja ASN; nama, NIK dan nomor HP pelaku UMKM; \
foto barang atau nota; lokasi ponsel saat melapor (bila diizinkan); alamat IP perangkat pada \
pemindaian QR yang ditolak.

Yang dapat melihat: ASN melihat laporannya sendiri; pelaku UMKM melihat laporan di lapaknya; \
petugas dinas melihat sesuai wilayah tugasnya. Data tidak dijual dan tidak dibagikan kepada \
pihak lain di luar pemerintah kota kecuali diwajibkan oleh undang-undang.

Data disimpan hanya selama jangka waktu pada tabel di bawah; sesudahnya dihapus otomatis. \
Laporan, nominalnya dan dokumen yang sudah terbit tetap disimpan sebagai arsip.

Anda berhak mengetahui, memperbaiki dan meminta salinan data Anda sesuai Undang-Undang Nomor 27 \
Tahun 2022 tentang Pelindungan Data Pribadi. Hubungi dinas melalui alamat pada kop dokumen."""

DEFAULT_SETTINGS = {
    "counted_states": ["submitted", "confirmed", "verified"],
    "report_ceiling": 5_000_000,
    "report_max_age_days": 7,
    "photo_required": True,
    # Shortest side of evidence, checked at submission (the worker does not re-check it).
    "photo_min_side": 200,
    "confirm_within_days": 7,
    # Thresholds of the rules that flag reports (promkm_qr.reports.rules).
    "rule_thresholds": {
        "amount_factor": 5,
        "amount_floor": 200_000,
        "amount_min_history": 5,
        "daily_max": 4,
        "repeat_minutes": 30,
        "photo_distance": 4,
        "photo_days": 90,
        "max_distance_m": 500,
        "photo_hours": 3,
        "hours_min_history": 10,
        "hours_margin": 2,
        "usual_hours": [5, 22],
        "history_days": 90,
    },
    # How long personal data is kept (promkm_qr.retention, README "Personal data").
    "retention": {
        "photo_months": 24,
        "position_months": 24,
        "address_days": 90,
        "message_days": 90,
    },
    "privacy_notice": PRIVACY_NOTICE,
    # Days an activation code stays valid (promkm_qr.accounts.activation).
    "activation_code_days": 30,
    # Staff session limits (promkm_qr.accounts.sessions; ASN and merchant limits are fixed).
    "sessions": {"staff_idle_minutes": 30, "staff_absolute_hours": 12},
    # Reminders (promkm_qr.notifications): when the daily ones are composed (WIB), how many
    # days before a month closes ASN below quota are told, the quiet hours (WIB) that hold
    # messages until morning, the most messages one person gets per channel and day, and the
    # names of the WhatsApp templates approved for each text.
    "reminders": {
        "send_at": "19:00",
        "shortfall_days": 5,
        "quiet_start": "21:00",
        "quiet_end": "06:00",
        "daily_cap": 3,
        # Staff are alerted when their area's review queue holds more reports than this.
        "review_threshold": 200,
        # ... or when it grew by more than this many reports a day since the last count.
        "review_growth": 100,
        "whatsapp_templates": {
            "merchant_digest": "pengingat_konfirmasi",
            "merchant_last_call": "pengingat_konfirmasi_terakhir",
            "asn_shortfall": "pengingat_kuota",
            "staff_review_queue": "antrean_tinjauan",
            "staff_jobs_failed": "pekerjaan_gagal",
            "asn_report_disputed": "laporan_dibantah",
            "asn_report_rejected": "laporan_ditolak",
            "staff_review_growth": "antrean_bertambah",
        },
    },
    "branding": {
        "pemerintah": "Pemerintah Kota Madiun",
        "dinas": "Dinas Tenaga Kerja, Koperasi, Usaha Kecil dan Menengah",
        "address": "Jl. Pahlawan No. 37, Kota Madiun",
        "city": "Madiun",
    },
}


def load_regions(path: str | Path) -> int:
    """Insert or rename the kecamatan and kelurahan listed in a kode_wilayah CSV."""
    kecamatan = {k.code: k for k in db.session.scalars(select(Kecamatan))}
    kelurahan = {k.code: k for k in db.session.scalars(select(Kelurahan))}
    count = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["kode_wilayah"].strip()
            kec_code = code.rsplit(".", 1)[0]
            kec = kecamatan.get(kec_code)
            if kec is None:
                kec = kecamatan[kec_code] = Kecamatan(code=kec_code, name=row["kecamatan"])
                db.session.add(kec)
            kel = kelurahan.get(code)
            if kel is None:
                kel = kelurahan[code] = Kelurahan(code=code, kecamatan=kec)
                db.session.add(kel)
            kel.name = row["kelurahan"].strip()
            count += 1
    db.session.commit()
    return count


def seed_defaults() -> None:
    """Categories, quota rules and settings, added only where missing."""
    have = set(db.session.scalars(select(Category.slug)))
    db.session.add_all(Category(slug=s, name=n) for s, n in CATEGORIES if s not in have)
    have = set(db.session.scalars(select(QuotaRule.position_class)))
    db.session.add_all(
        QuotaRule(position_class=p, kind="fixed", amount=a) for p, a in QUOTA_RULES if p not in have
    )
    have = set(db.session.scalars(select(Setting.key)))
    db.session.add_all(
        Setting(key=k, value=v) for k, v in DEFAULT_SETTINGS.items() if k not in have
    )
    db.session.commit()


_ALL_SETTINGS = select(Setting.key, Setting.value)


def _overlay(default, saved):
    """The saved value over its default: a dict keeps the default's keys it does not save.

    A row saved before a key was added to DEFAULT_SETTINGS lacks that key; callers index the
    setting by its keys, so the default fills the gap (nested dicts likewise).
    """
    if not (isinstance(default, dict) and isinstance(saved, dict)):
        return saved
    merged = dict(default)
    for name, value in saved.items():
        merged[name] = _overlay(default.get(name), value)
    return merged


def with_default(key: str, saved):
    """A setting's value as read from its row (None: no row) over its default."""
    if saved is None:
        return DEFAULT_SETTINGS.get(key)
    return _overlay(DEFAULT_SETTINGS.get(key), saved)


def get_setting(key: str):
    """A setting's current value, falling back to the default.

    All settings are read in one query and kept until the transaction ends: a submission
    asks for several, and each asking cost a database round trip.
    """
    info = db.session.info
    if "settings" not in info:
        info["settings"] = {
            k: with_default(k, v) for k, v in db.session.execute(_ALL_SETTINGS).all()
        }
    if key in info["settings"]:
        return info["settings"][key]
    return DEFAULT_SETTINGS.get(key)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_settings(session, *_args) -> None:
    """A new transaction reads the settings again, so a change saved elsewhere is seen."""
    session.info.pop("settings", None)


@event.listens_for(Session, "transient_to_pending")
@event.listens_for(Session, "persistent_to_deleted")
def _forget_added_setting(session, obj) -> None:
    """A setting added or deleted in this session is read back at once, not from the cache."""
    if isinstance(obj, Setting):
        session.info.pop("settings", None)


@event.listens_for(Setting.value, "set")
def _forget_changed_setting(target, *_args) -> None:
    """A setting changed in this session is read back at once, not from the cache."""
    session = object_session(target)
    if session is not None:
        session.info.pop("settings", None)
