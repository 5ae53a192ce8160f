"""Tests for NIK, NIB and phone numbers."""

import contextlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promkm_qr.core.nik import (
    InvalidNik,
    Nik,
    mask_nik,
    mask_phone,
    normalize_phone,
    parse_nik,
    validate_nib,
)

# Shared CI machines are slow at times; a per-example deadline would only add flakiness.
fast = settings(deadline=None)
TODAY = date(2025, 6, 15)


def test_parse_nik_male():
    """A Kota Madiun NIK parses into region codes, birth date, gender and serial."""
    assert parse_nik("3577010609860001", today=TODAY) == Nik(
        digits="3577010609860001",
        province_code="35",
        regency_code="3577",
        district_code="357701",
        birth_date=date(1986, 9, 6),
        gender="L",
        serial="0001",
    )


def test_parse_nik_female_day_plus_40():
    """Women have 40 added to the birth day."""
    nik = parse_nik("3577 0146 0986 0002", today=TODAY)
    assert nik.gender == "P"
    assert nik.birth_date == date(1986, 9, 6)


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("010120", date(2020, 1, 1)),
        ("010125", date(2025, 1, 1)),
        ("150625", date(2025, 6, 15)),
        ("160625", date(1925, 6, 16)),
        ("290200", date(2000, 2, 29)),
        ("311299", date(1999, 12, 31)),
    ],
)
def test_two_digit_year_resolves_to_age_0_to_100(birth, expected):
    """The year is the most recent one that does not put the birth after today."""
    assert parse_nik(f"357701{birth}0001", today=TODAY).birth_date == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "wajib diisi"),
        ("357701060986001", "Panjang NIK salah"),
        ("35770106098600011", "Panjang NIK salah"),
        ("3577O10609860001", "hanya boleh berisi angka"),
        ("3577013209860001", "Tanggal lahir"),
        ("3577010009860001", "Tanggal lahir"),
        ("3577017209860001", "Tanggal lahir"),
        ("3577010613860001", "Tanggal lahir"),
        ("3577013002860001", "Tanggal lahir"),
        ("3577012902250001", "Tanggal lahir"),
        ("0077010609860001", "Kode wilayah"),
        ("3500010609860001", "Kode wilayah"),
        ("3577000609860001", "Kode wilayah"),
    ],
)
def test_parse_nik_rejects_with_reason(text, message):
    """Each structural rule has its own Indonesian message."""
    with pytest.raises(InvalidNik, match=message):
        parse_nik(text, today=TODAY)


def test_mask_nik_keeps_length_and_hides_birth_date():
    """Only the city prefix and the last two digits remain visible."""
    assert mask_nik("3577011234560001") == "3577**********01"
    with pytest.raises(InvalidNik):
        mask_nik("1234")


def test_validate_nib():
    """A NIB is 13 digits; spaces are tolerated."""
    assert validate_nib("1234567890123") == "1234567890123"
    assert validate_nib(" 1234 5678 90123 ") == "1234567890123"
    for bad in ("", "123456789012", "12345678901234", "12345678901A3"):
        with pytest.raises(ValueError, match="NIB"):
            validate_nib(bad)


@pytest.mark.parametrize(
    "text",
    [
        "081234567890",
        "+6281234567890",
        "6281234567890",
        "+62 812-3456-7890",
        "+62 0812 3456 7890",
        "(0812) 3456.7890",
    ],
)
def test_normalize_phone_accepts_common_spellings(text):
    """+62, 62 and 08 prefixes all give the national form."""
    assert normalize_phone(text) == "081234567890"


def test_normalize_phone_length_bounds():
    """Numbers of 10 and 13 digits are accepted."""
    assert normalize_phone("0812345678") == "0812345678"
    assert normalize_phone("0812345678901") == "0812345678901"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "wajib diisi"),
        ("abc", "diawali"),
        ("+1 555 123 4567", "diawali"),
        ("0351 123456", "seluler"),
        ("08123x567890", "seluler"),
        ("081234567", "10 sampai 13"),
        ("08123456789012", "10 sampai 13"),
    ],
)
def test_normalize_phone_rejects_with_reason(text, message):
    """Landlines, foreign numbers and wrong lengths are refused."""
    with pytest.raises(ValueError, match=message):
        normalize_phone(text)


def test_mask_phone():
    """A masked number keeps the operator prefix and the last three digits."""
    assert mask_phone("+62 812-3456-7890") == "0812*****890"


@fast
@given(st.one_of(st.text(), st.text(alphabet="0123456789 +-.()", max_size=20)))
def test_parsers_only_raise_value_error(text):
    """Arbitrary text either passes or raises ValueError, for every parser here."""
    for parser in (
        lambda t: parse_nik(t, today=TODAY),
        mask_nik,
        validate_nib,
        normalize_phone,
        mask_phone,
    ):
        with contextlib.suppress(ValueError):
            parser(text)


@st.composite
def valid_niks(draw):
    """Draw a valid NIK and the Nik it should parse into."""
    region = "".join(f"{draw(st.integers(min_value=1, max_value=99)):02d}" for _ in range(3))
    born = draw(st.dates(min_value=date(1925, 6, 16), max_value=TODAY))
    gender = draw(st.sampled_from("LP"))
    day = born.day + (40 if gender == "P" else 0)
    serial = f"{draw(st.integers(min_value=0, max_value=9999)):04d}"
    digits = f"{region}{day:02d}{born:%m%y}{serial}"
    return digits, Nik(digits, region[:2], region[:4], region, born, gender, serial)


@fast
@given(valid_niks())
def test_nik_round_trips(case):
    """A NIK built from valid parts parses back into those parts."""
    digits, expected = case
    assert parse_nik(digits, today=TODAY) == expected
    assert parse_nik(" ".join([digits[:6], digits[6:12], digits[12:]]), today=TODAY) == expected


@fast
@given(st.from_regex(r"8[0-9]{8,11}", fullmatch=True), st.sampled_from(["0", "62", "+62"]))
def test_phone_round_trips(national, prefix):
    """Every accepted prefix gives the same canonical number, which normalizes to itself."""
    phone = normalize_phone(prefix + national)
    assert phone == "0" + national
    assert normalize_phone(phone) == phone
