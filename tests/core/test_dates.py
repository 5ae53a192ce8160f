"""Tests for WIB conversion and Indonesian date formatting."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promkm_qr.core.dates import (
    WIB,
    format_date,
    format_date_long,
    format_date_numeric,
    format_datetime,
    month_bounds_utc,
    month_label,
    month_name,
    naive_utc,
    now_wib,
    to_wib,
    wib_day_start,
)

# Shared CI machines are slow at times; a per-example deadline would only add flakiness.
fast = settings(deadline=None)


def test_format_date_long_indonesian_and_english():
    """The long date carries the day name, a zero-padded day and the month name."""
    assert format_date_long(date(2008, 2, 5)) == "Selasa, 05 Februari 2008"
    assert format_date_long(date(2008, 2, 5), locale="en") == "Tuesday, 05 February 2008"


def test_day_names_run_senin_to_minggu():
    """2024-01-01 was a Monday, so one week covers every day name in order."""
    names = [format_date_long(date(2024, 1, 1) + timedelta(days=i)).split(",")[0] for i in range(7)]
    assert names == ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


def test_month_names():
    """All twelve Indonesian month names are spelled as in official letters."""
    assert [month_name(m) for m in range(1, 13)] == [
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
    ]


def test_format_date():
    """The short date has no day name."""
    assert format_date(date(2008, 2, 5)) == "05 Februari 2008"
    assert format_date_numeric(date(2008, 2, 5)) == "05/02/2008"
    # 31 Jan 2008 23:30 WIB is 16:30 UTC: the WIB day is printed.
    assert format_date_numeric(datetime(2008, 1, 31, 16, 30, tzinfo=UTC)) == "31/01/2008"
    assert format_date(date(2021, 8, 17), locale="en") == "17 August 2021"


def test_naive_datetimes_are_utc():
    """A naive datetime from the database is UTC, shown seven hours later in WIB."""
    assert format_datetime(datetime(2008, 2, 5, 7, 30)) == "05 Februari 2008 14:30 WIB"
    assert to_wib(datetime(2008, 2, 5, 7, 30)) == datetime(2008, 2, 5, 14, 30, tzinfo=WIB)


def test_dates_of_datetimes_are_taken_in_wib():
    """20:00 UTC is already the next day in Madiun."""
    late = datetime(2008, 2, 5, 20, 0, tzinfo=UTC)
    assert format_date(late) == "06 Februari 2008"
    assert format_date_long(late) == "Rabu, 06 Februari 2008"
    assert format_datetime(late, locale="en") == "06 February 2008 03:00 WIB"


def test_to_wib_converts_other_zones():
    """An aware datetime in any zone is converted, not relabelled."""
    tokyo = datetime(2008, 2, 5, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert to_wib(tokyo).hour == 7
    assert to_wib(tokyo).utcoffset() == timedelta(hours=7)


def test_month_label():
    """A month heading is the month name and the year."""
    assert month_label(2008, 2) == "Februari 2008"
    assert month_label(2008, 2, locale="en") == "February 2008"


def test_month_bounds_utc():
    """A WIB month starts at 17:00 UTC on the previous day, also across a year end."""
    assert month_bounds_utc(2008, 2) == (
        datetime(2008, 1, 31, 17, tzinfo=UTC),
        datetime(2008, 2, 29, 17, tzinfo=UTC),
    )
    assert month_bounds_utc(2021, 12) == (
        datetime(2021, 11, 30, 17, tzinfo=UTC),
        datetime(2021, 12, 31, 17, tzinfo=UTC),
    )


def test_now_wib_is_aware_wib():
    """now_wib carries the WIB offset."""
    assert now_wib().utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("month", [0, 13, -1])
def test_invalid_month_raises(month):
    """Months outside 1-12 raise ValueError."""
    with pytest.raises(ValueError, match="Bulan"):
        month_bounds_utc(2024, month)
    with pytest.raises(ValueError, match="Bulan"):
        month_label(2024, month)


def test_unknown_locale_raises():
    """Only Indonesian and English are supported."""
    with pytest.raises(ValueError, match="Bahasa tidak didukung"):
        format_date(date(2024, 1, 1), locale="fr")


@fast
@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1)))
def test_every_moment_falls_in_its_wib_month(moment):
    """The WIB month of a moment has bounds that contain it, and they are UTC."""
    local = to_wib(moment)
    start, end = month_bounds_utc(local.year, local.month)
    assert start <= moment.replace(tzinfo=UTC) < end
    assert start.utcoffset() == timedelta(0)
    assert to_wib(start).day == 1
    assert to_wib(start).hour == 0


def test_naive_utc_converts_an_aware_moment_and_keeps_a_naive_one():
    wib = datetime(2026, 3, 1, 6, 30, tzinfo=timezone(timedelta(hours=7)))
    assert naive_utc(wib) == datetime(2026, 2, 28, 23, 30)
    assert naive_utc(datetime(2026, 3, 1, 6, 30)) == datetime(2026, 3, 1, 6, 30)
    before = datetime.now(UTC).replace(tzinfo=None)
    now = naive_utc()
    assert now.tzinfo is None and before <= now <= datetime.now(UTC).replace(tzinfo=None)


def test_wib_day_start_is_the_evening_before_in_utc():
    assert wib_day_start(date(2026, 3, 1)) == datetime(2026, 2, 28, 17, 0)
    # A moment counts by its WIB date: 18:00 UTC on 28 Feb is already 1 March in WIB.
    assert wib_day_start(datetime(2026, 2, 28, 18, 0)) == datetime(2026, 2, 28, 17, 0)
    assert wib_day_start(datetime(2026, 2, 28, 16, 59)) == datetime(2026, 2, 27, 17, 0)
    today = wib_day_start()
    assert today <= naive_utc() < today + timedelta(days=1)
