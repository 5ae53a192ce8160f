"""Tests for rupiah parsing and formatting."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promkm_qr.core.money import MAX_DIGITS, format_rupiah, parse_rupiah

# Shared CI machines are slow at times; a per-example deadline would only add flakiness.
fast = settings(deadline=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50000", 50_000),
        ("50.000", 50_000),
        ("Rp50.000", 50_000),
        ("Rp 50.000", 50_000),
        ("rp. 1.250.000", 1_250_000),
        ("RP.1.250.000", 1_250_000),
        ("1.250.000,00", 1_250_000),
        ("1.250.000,0", 1_250_000),
        ("1250000,00", 1_250_000),
        ("Rp50.000,-", 50_000),
        ("IDR 50000", 50_000),
        ("  Rp 75.000  ", 75_000),
        ("0", 0),
        ("Rp0", 0),
        ("999.999.999.999.999", 999_999_999_999_999),
        # English grouping, as spreadsheets and banking apps write it.
        ("1,250,000", 1_250_000),
        ("Rp1,250,000", 1_250_000),
        ("IDR 1,250,000.00", 1_250_000),
        ("12,500", 12_500),
        ("1,250,000,-", 1_250_000),
    ],
)
def test_parse_rupiah_accepts_what_people_type(text, expected):
    """Every accepted spelling gives the integer number of rupiah."""
    assert parse_rupiah(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "wajib diisi"),
        ("   ", "wajib diisi"),
        ("abc", "tidak dikenali"),
        ("1e9", "tidak dikenali"),
        ("-5000", "negatif"),
        ("Rp-5.000", "negatif"),
        ("\u22125000", "negatif"),
        ("1.250.000,50", "dibaca Rp1.250.000 lebih 50 sen"),
        ("12,50", "dibaca Rp12 lebih 50 sen"),
        ("12,5", "dibaca Rp12 lebih 50 sen"),
        ("1,250.5", "dibaca Rp1.250 lebih 50 sen"),
        ("50.000,", "tidak dikenali"),
        ("1.250,000", "tidak dikenali"),
        ("1,250.000", "tidak dikenali"),
        ("1,25,000", "tidak dikenali"),
        ("50000.00", "tidak dikenali"),
        ("5.00.000", "tidak dikenali"),
        ("1.5", "tidak dikenali"),
        ("Rp", "tidak dikenali"),
        ("50 000", "tidak dikenali"),
        ("\u0665\u0660\u0660\u0660", "tidak dikenali"),
        ("1234567890123456", "terlalu besar"),
        ("1" * 41, "terlalu panjang"),
    ],
)
def test_parse_rupiah_rejects_with_indonesian_message(text, message):
    """Rejected input raises ValueError whose message says why, in Indonesian."""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_rupiah(text)


@pytest.mark.parametrize("text", ["12,50", "50000.00", "1.250,000"])
def test_a_refused_amount_says_how_separators_are_read(text):
    """The message names the reading of both separators, so the person can write it again."""
    with pytest.raises(ValueError, match=re.escape("1.250.000 sama dengan 1,250,000")):
        parse_rupiah(text)


def test_cents_are_named_only_for_a_real_fraction():
    """Zero cents are no cents; three digits after a comma are thousands, not a fraction."""
    assert parse_rupiah("1.250.000,00") == parse_rupiah("1,250,000.00") == 1_250_000
    with pytest.raises(ValueError, match="sen, padahal"):
        parse_rupiah("1.250.000,05")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "Rp0"),
        (999, "Rp999"),
        (1_000, "Rp1.000"),
        (1_250_000, "Rp1.250.000"),
        (-5_000, "-Rp5.000"),
    ],
)
def test_format_rupiah(amount, expected):
    """Amounts are written the Indonesian way, without a space after Rp."""
    assert format_rupiah(amount) == expected


@pytest.mark.parametrize("amount", [1.5, True, "5000", None])
def test_format_rupiah_refuses_non_integers(amount):
    """Money is an integer number of rupiah, so anything else is a programming error."""
    with pytest.raises(TypeError):
        format_rupiah(amount)


@fast
@given(st.one_of(st.text(), st.text(alphabet="0123456789.,-Rrp ID\u2212e", max_size=25)))
def test_parse_rupiah_only_raises_value_error(text):
    """Arbitrary text either parses to a non-negative integer or raises ValueError."""
    try:
        result = parse_rupiah(text)
    except ValueError:
        return
    assert isinstance(result, int)
    assert result >= 0


@fast
@given(st.integers(min_value=0, max_value=10**MAX_DIGITS - 1))
def test_format_then_parse_round_trips(amount):
    """Whatever format_rupiah writes, parse_rupiah reads back unchanged."""
    assert parse_rupiah(format_rupiah(amount)) == amount
    assert parse_rupiah(str(amount)) == amount
