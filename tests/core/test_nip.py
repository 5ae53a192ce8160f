"""Tests for NIP (PNS) and NI PPPK parsing."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promkm_qr.core.nip import InvalidNip, Nip, format_nip, parse_nip

# Shared CI machines are slow at times; a per-example deadline would only add flakiness.
fast = settings(deadline=None)
TODAY = date(2025, 6, 15)


def test_parse_pns_nip():
    """The example NIP from DOMAIN.md parses into its parts."""
    assert parse_nip("19860926 201505 1 001", today=TODAY) == Nip(
        digits="198609262015051001",
        birth_date=date(1986, 9, 26),
        appointment=(2015, 5),
        gender="L",
        serial="001",
        kind="PNS",
    )


@pytest.mark.parametrize(
    "text",
    [
        "198609262015051001",
        "19860926.201505.1.001",
        "19860926-201505-1-001",
        "  NIP. 19860926 201505 1 001 ",
        "nip:198609262015051001",
    ],
)
def test_parse_nip_tolerates_separators_and_label(text):
    """Spaces, dots, dashes and a "NIP." label are what people paste."""
    assert parse_nip(text, today=TODAY).digits == "198609262015051001"


def test_parse_pppk_ni():
    """Digits 13-14 that are not a month mark an NI PPPK, checked on the year only."""
    nip = parse_nip("19900101 202221 2 001", today=TODAY)
    assert nip.kind == "PPPK"
    assert nip.appointment == (2022, None)
    assert nip.gender == "P"
    assert nip.birth_date == date(1990, 1, 1)


def test_appointment_in_month_of_18th_birthday_is_allowed():
    """The 18th birthday is compared at month precision, as a TMT is the first of a month."""
    assert parse_nip("19970515 201505 1 001", today=TODAY).appointment == (2015, 5)


def test_appointment_this_month_is_allowed():
    """An appointment in the current WIB month is not in the future."""
    assert parse_nip("19860926 202506 1 001", today=TODAY).appointment == (2025, 6)


def test_default_today_is_used():
    """Without a today argument, the current WIB date is used."""
    assert parse_nip("19860926 201505 1 001").kind == "PNS"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "wajib diisi"),
        ("NIP.", "wajib diisi"),
        ("19860926 201505 1 00", "Panjang NIP salah"),
        ("19860926 201505 1 0011", "Panjang NIP salah"),
        ("19860926 2015O5 1 001", "hanya boleh berisi angka"),
        ("19860230 201505 1 001", "Tanggal lahir"),
        ("19861326 201505 1 001", "Tanggal lahir"),
        ("18991231 201505 1 001", "Tanggal lahir"),
        ("20300101 201505 1 001", "Tanggal lahir"),
        ("19860926 201505 3 001", "jenis kelamin"),
        ("19860926 201505 0 001", "jenis kelamin"),
        ("20000101 201505 1 001", "sebelum usia 18"),
        ("19970515 201504 1 001", "sebelum usia 18"),
        ("20000101 201521 1 001", "sebelum usia 18"),
        ("19860926 202507 1 001", "masa depan"),
        ("19900101 202621 1 001", "masa depan"),
    ],
)
def test_parse_nip_rejects_with_reason(text, message):
    """Each rule has its own Indonesian message."""
    with pytest.raises(InvalidNip, match=message):
        parse_nip(text, today=TODAY)


def test_invalid_nip_is_a_value_error():
    """Callers may catch ValueError for every parser."""
    assert issubclass(InvalidNip, ValueError)


def test_format_nip():
    """A NIP is printed in four groups."""
    assert format_nip("198609262015051001") == "19860926 201505 1 001"
    assert parse_nip("198609262015051001", today=TODAY).formatted == "19860926 201505 1 001"
    with pytest.raises(InvalidNip, match="Panjang"):
        format_nip("1986")


@fast
@given(st.one_of(st.text(), st.text(alphabet="0123456789 .-NIP", min_size=15, max_size=25)))
def test_parse_nip_only_raises_value_error(text):
    """Arbitrary text either parses or raises InvalidNip."""
    try:
        nip = parse_nip(text, today=TODAY)
    except InvalidNip:
        return
    assert len(nip.digits) == 18


@st.composite
def valid_nips(draw):
    """Draw a NIP that meets every rule, with the parts it was built from."""
    born = draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2007, 6, 1)))
    kind = draw(st.sampled_from(["PNS", "PPPK"]))
    if kind == "PNS":
        earliest = (born.year + 18) * 12 + born.month - 1
        index = draw(st.integers(min_value=earliest, max_value=TODAY.year * 12 + TODAY.month - 1))
        appointment = (index // 12, index % 12 + 1)
        middle = f"{appointment[0]:04d}{appointment[1]:02d}"
    else:
        year = draw(st.integers(min_value=born.year + 18, max_value=TODAY.year))
        code = draw(st.integers(min_value=13, max_value=99) | st.just(0))
        appointment = (year, None)
        middle = f"{year:04d}{code:02d}"
    gender = draw(st.sampled_from("12"))
    serial = f"{draw(st.integers(min_value=0, max_value=999)):03d}"
    digits = f"{born:%Y%m%d}{middle}{gender}{serial}"
    expected = Nip(digits, born, appointment, "L" if gender == "1" else "P", serial, kind)
    return digits, expected


@fast
@given(valid_nips())
def test_format_then_parse_round_trips(case):
    """A valid NIP, formatted and parsed back, gives the parts it was built from."""
    digits, expected = case
    assert parse_nip(format_nip(digits), today=TODAY) == expected
