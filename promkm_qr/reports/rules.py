"""Rules that flag a purchase report which looks wrong, each explained in words.

Every rule is a small function on plain data (a `Subject` and what the loader gathered about
its stall, its ASN and earlier photos) with its threshold from the `rule_thresholds`
setting. A rule returns the explanation shown to reviewers, or None when nothing is odd.
Loading the data and storing the flags is `promkm_qr.reports.checks`.
"""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from promkm_qr.core.money import format_rupiah
from promkm_qr.reference import get_setting

WIB_OFFSET = timedelta(hours=7)
# Hours are counted from 04:00 WIB so a night stall's 22:00-02:00 is one unbroken stretch.
DAY_STARTS_AT = 4
EARTH_RADIUS_M = 6_371_000


@dataclass(frozen=True)
class Subject:
    """A report with the facts about its stall, its ASN and its photo the rules look at."""

    id: int
    asn_id: int
    stall_id: int
    category_id: int | None
    amount: int
    purchased_at: datetime  # naive UTC
    lat: float | None = None
    lon: float | None = None
    stall_lat: float | None = None
    stall_lon: float | None = None
    sha256: str | None = None
    original_sha256: str | None = None
    phash: str | None = None
    taken_at: datetime | None = None  # naive WIB, as the camera wrote it
    asn_nik: str | None = None
    asn_phone: str | None = None
    owner_nik: str | None = None
    owner_phones: tuple[str, ...] = ()


def thresholds() -> dict:
    """The rules' thresholds: the setting merged over the defaults."""
    return get_setting("rule_thresholds")


def wib_hour(purchased_at: datetime) -> float:
    """Hours since 04:00 WIB of the purchase's day (0 to 24)."""
    local = purchased_at + WIB_OFFSET
    return (local.hour - DAY_STARTS_AT) % 24 + local.minute / 60


def amount_outlier(s: Subject, stall_amounts: list[int], category_avg: float | None, t: dict):
    """An amount many times what the stall (or, with little history, its category) usually sees."""
    if s.amount < t["amount_floor"]:
        return None
    if len(stall_amounts) >= t["amount_min_history"]:
        usual, basis = statistics.median(stall_amounts), _("median lapak ini")
    elif category_avg:
        usual, basis = category_avg, _("rata-rata belanja biasa di kategori lapak ini")
    else:
        return None
    if s.amount <= t["amount_factor"] * usual:
        return None
    return _(
        "Nominal %(amount)s lebih dari %(factor)s kali %(basis)s (%(usual)s).",
        amount=format_rupiah(s.amount),
        factor=t["amount_factor"],
        basis=basis,
        usual=format_rupiah(round(usual)),
    )


def too_many_per_day(s: Subject, same_day_count: int, t: dict):
    """More reports by one ASN in one WIB day than the daily maximum."""
    if same_day_count <= t["daily_max"]:
        return None
    return _(
        "ASN ini melapor %(count)s pembelian pada hari yang sama (batas %(limit)s).",
        count=same_day_count,
        limit=t["daily_max"],
    )


def repeat_at_stall(s: Subject, minutes_since_previous: float | None, t: dict):
    """The same ASN at the same stall again within a few minutes of an earlier report."""
    if minutes_since_previous is None or minutes_since_previous > t["repeat_minutes"]:
        return None
    return _(
        "ASN yang sama melapor lagi di lapak yang sama %(minutes)s menit setelah laporan "
        "sebelumnya (batas %(limit)s menit).",
        minutes=round(minutes_since_previous),
        limit=t["repeat_minutes"],
    )


def phash_distance(phash_a: str, phash_b: str) -> int:
    """Hamming distance of two phash hex strings (as core.photos.perceptual_distance, faster)."""
    return (int(phash_a, 16) ^ int(phash_b, 16)).bit_count()


def reused_photo(s: Subject, earlier: list[tuple[int, str, str, str, str]], t: dict):
    """A photo whose bytes, or whose look, match the photo of an earlier report.

    `earlier` holds (report id, reference, sha256, original sha256, phash) of candidates.
    """
    mine = {s.sha256, s.original_sha256} - {None}
    for _id, reference, sha256, original_sha256, _phash in earlier:
        if mine & {sha256, original_sha256}:
            return _("Foto sama persis dengan foto laporan %(ref)s.", ref=reference)
    for _id, reference, _sha, _original, phash in earlier:
        if s.phash and phash and phash_distance(s.phash, phash) <= t["photo_distance"]:
            return _("Foto tampak sama dengan foto laporan %(ref)s.", ref=reference)
    return None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def far_from_stall(s: Subject, t: dict):
    """The phone's location at reporting time far from the stall's registered position."""
    if None in (s.lat, s.lon, s.stall_lat, s.stall_lon):
        return None
    metres = distance_m(s.lat, s.lon, s.stall_lat, s.stall_lon)
    if metres <= t["max_distance_m"]:
        return None
    return _(
        "Lokasi ponsel saat melapor %(km)s km dari lapak (batas %(limit)s m).",
        km=f"{metres / 1000:.1f}".replace(".", ","),
        limit=t["max_distance_m"],
    )


def photo_time_mismatch(s: Subject, t: dict):
    """A photo taken hours or days away from the reported purchase time."""
    if s.taken_at is None:
        return None
    hours = abs((s.taken_at - (s.purchased_at + WIB_OFFSET)).total_seconds()) / 3600
    if hours <= t["photo_hours"]:
        return None
    return _(
        "Foto diambil %(hours)s jam dari waktu pembelian yang dilaporkan (batas %(limit)s jam).",
        hours=round(hours),
        limit=t["photo_hours"],
    )


def unusual_hour(s: Subject, stall_hours: list[float], t: dict):
    """A purchase far outside the hours the stall usually sells (or the city's usual hours)."""
    hour = wib_hour(s.purchased_at)
    if len(stall_hours) >= t["hours_min_history"]:
        ordered = sorted(stall_hours)
        # The 5th and 95th percentiles, so one odd earlier report does not widen the window.
        low = ordered[int(0.05 * (len(ordered) - 1))] - t["hours_margin"]
        high = ordered[math.ceil(0.95 * (len(ordered) - 1))] + t["hours_margin"]
    else:
        opens, closes = t["usual_hours"]
        low, high = (opens - DAY_STARTS_AT) % 24, (closes - DAY_STARTS_AT) % 24
    if low <= hour <= high:
        return None
    local = s.purchased_at + WIB_OFFSET
    return _(
        "Pembelian pukul %(time)s WIB, jauh di luar jam jual biasa lapak ini.",
        time=f"{local:%H:%M}",
    )


def own_stall(s: Subject, t: dict):
    """An ASN reporting a purchase at a stall they (or their household) own."""
    if s.asn_nik and s.asn_nik == s.owner_nik:
        return _("NIK ASN sama dengan NIK pemilik lapak.")
    if s.asn_phone and s.asn_phone in s.owner_phones:
        return _("Nomor HP ASN sama dengan nomor HP pemilik lapak.")
    return None


# Rule names as stored in ReportFlag.rule, with their labels for filters and pages.
RULES = {
    "amount": _l("Nominal tidak wajar"),
    "daily_count": _l("Terlalu banyak laporan sehari"),
    "repeat": _l("Berulang di lapak yang sama"),
    "photo": _l("Foto dipakai ulang"),
    "distance": _l("Lokasi jauh dari lapak"),
    "photo_time": _l("Waktu foto tidak cocok"),
    "hours": _l("Di luar jam jual"),
    "own_stall": _l("Lapak milik sendiri"),
}
# The flag the unanswered-report sweep sets; re-running the rules leaves it alone.
UNANSWERED = "unanswered"
FLAG_LABELS = {**RULES, UNANSWERED: _l("Tidak dijawab pedagang")}
