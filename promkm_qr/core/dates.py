"""Dates and times as the city reads them: WIB (Asia/Jakarta) and Indonesian names.

Storage is UTC; anything shown to people or grouped into months goes through WIB first,
because a "month" in a recap is a calendar month in WIB. Naive datetimes are taken to be UTC,
which is how the database hands them back. Every formatter takes ``locale="id"`` (default) or
``locale="en"``.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

WIB = ZoneInfo("Asia/Jakarta")

MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

# Indexed by date.weekday(): Monday is 0.
DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _check_locale(locale: str) -> str:
    """Return the locale if it is supported, else raise ValueError."""
    if locale not in MONTHS:
        raise ValueError(
            _l("Bahasa tidak didukung: '%(locale)s' (pilih 'id' atau 'en').", locale=locale)
        )
    return locale


def _check_month(month: int) -> None:
    """Raise ValueError unless month is 1 to 12."""
    if not 1 <= month <= 12:
        raise ValueError(_l("Bulan harus 1 sampai 12, bukan %(month)s.", month=month))


def now_wib() -> datetime:
    """Return the current time as an aware datetime in WIB."""
    return datetime.now(WIB)


def to_wib(dt: datetime) -> datetime:
    """Convert a datetime to WIB, treating a naive datetime as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(WIB)


def naive_utc(moment: datetime | None = None) -> datetime:
    """A moment (now by default) as naive UTC, how every timestamp column stores it.

    A naive moment is taken to be UTC already and returned as it is.
    """
    if moment is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def wib_day_start(day: date | None = None) -> datetime:
    """Midnight WIB starting a day, as naive UTC (17:00 UTC the evening before).

    `day` is a WIB calendar date, or a moment whose WIB date is meant (naive is UTC);
    None means today in WIB.
    """
    if day is None:
        day = now_wib()
    if isinstance(day, datetime):
        day = to_wib(day).date()
    return naive_utc(datetime.combine(day, time(), tzinfo=WIB))


def _as_wib_date(d: date) -> date:
    """Return the WIB calendar date of a datetime, or a plain date unchanged."""
    return to_wib(d).date() if isinstance(d, datetime) else d


def month_name(month: int, locale: str = "id") -> str:
    """Return the name of a month (1-12) in the given locale."""
    _check_month(month)
    return MONTHS[_check_locale(locale)][month - 1]


def format_date(d: date, locale: str = "id") -> str:
    """Format a date (or a datetime, shown in WIB) as "05 Februari 2008"."""
    d = _as_wib_date(d)
    return f"{d.day:02d} {month_name(d.month, locale)} {d.year}"


def format_date_numeric(d: date) -> str:
    """Format a date (or a datetime, shown in WIB) as "05/02/2008", for narrow table columns."""
    d = _as_wib_date(d)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def format_date_long(d: date, locale: str = "id") -> str:
    """Format a date (or a datetime, shown in WIB) as "Selasa, 05 Februari 2008"."""
    d = _as_wib_date(d)
    return f"{DAYS[_check_locale(locale)][d.weekday()]}, {format_date(d, locale)}"


def format_datetime(dt: datetime, locale: str = "id") -> str:
    """Format a datetime in WIB as "05 Februari 2008 14:30 WIB"."""
    local = to_wib(dt)
    return f"{format_date(local.date(), locale)} {local:%H:%M} WIB"


def month_label(year: int, month: int, locale: str = "id") -> str:
    """Return a month heading such as "Februari 2008"."""
    return f"{month_name(month, locale)} {year}"


def month_bounds_utc(year: int, month: int) -> tuple[datetime, datetime]:
    """Return the half-open [start, end) of a WIB calendar month as aware UTC datetimes."""
    _check_month(month)
    start = datetime(year, month, 1, tzinfo=WIB)
    # Day 28 plus 4 days always lands in the next month, whatever this month's length.
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.astimezone(UTC), following.astimezone(UTC)
