"""Tests for stall codes printed on QR posters."""

import csv
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promkm_qr.core.stall_code import (
    make_stall_code,
    normalize_kelurahan_code,
    parse_stall_code,
)

# Shared CI machines are slow at times; a per-example deadline would only add flakiness.
fast = settings(deadline=None)


def shared_data_dir() -> Path | None:
    """Return the shared test-data folder next to the repo, else $PROMKM_SHARED_DATA."""
    beside_repo = Path(__file__).parents[2].parent / "shared" / "data"
    if beside_repo.is_dir():
        return beside_repo
    from_env = os.environ.get("PROMKM_SHARED_DATA")
    return Path(from_env) if from_env else None


def test_make_stall_code():
    """The code is the undotted kelurahan code, a dash and a zero-padded serial."""
    assert make_stall_code("35.77.01.1001", 42) == "3577011001-00042"
    assert make_stall_code("3577011001", 1) == "3577011001-00001"
    assert make_stall_code("35.77.03.1009", 99_999) == "3577031009-99999"


@pytest.mark.parametrize("serial", [0, -1, 100_000])
def test_make_stall_code_rejects_bad_serial(serial):
    """Serials run from 1 to 99999."""
    with pytest.raises(ValueError, match="Nomor urut"):
        make_stall_code("35.77.01.1001", serial)


@pytest.mark.parametrize("serial", ["42", 4.2, True])
def test_make_stall_code_refuses_non_integer_serial(serial):
    """A serial of the wrong type is a programming error."""
    with pytest.raises(TypeError):
        make_stall_code("35.77.01.1001", serial)


@pytest.mark.parametrize(
    "code", ["35.77.01", "357701100", "3577O11001", "3577001001", "3577010000"]
)
def test_bad_kelurahan_code(code):
    """Kelurahan codes are 10 digits, none of the parts zero."""
    with pytest.raises(ValueError, match="Kode kelurahan"):
        make_stall_code(code, 1)


@pytest.mark.parametrize(
    "text",
    [
        "3577011001-00042",
        " 3577011001 - 00042 ",
        "357701100100042",
        "35.77.01.1001-00042",
        "3577011001\u201300042",
        "3577011001-42",
    ],
)
def test_parse_stall_code_is_tolerant(text):
    """Spaces, dots, a missing dash, typographic dashes and short serials are forgiven."""
    assert parse_stall_code(text) == ("3577011001", 42)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "tidak dikenali"),
        ("abc", "tidak dikenali"),
        ("3577011001-000042", "tidak dikenali"),
        ("357701100-00042", "tidak dikenali"),
        ("35770110010004", "tidak dikenali"),
        ("3577011001-00000", "Nomor urut"),
        ("3500011001-00042", "Kode kelurahan"),
    ],
)
def test_parse_stall_code_rejects_with_reason(text, message):
    """Unreadable codes raise ValueError with an Indonesian message."""
    with pytest.raises(ValueError, match=message):
        parse_stall_code(text)


def test_every_kelurahan_in_kota_madiun_round_trips():
    """All 27 kelurahan codes of Kota Madiun make codes that parse back."""
    folder = shared_data_dir()
    if folder is None or not (folder / "wilayah_kota_madiun.csv").is_file():
        pytest.skip("wilayah_kota_madiun.csv not found (set PROMKM_SHARED_DATA)")
    with (folder / "wilayah_kota_madiun.csv").open(encoding="utf-8", newline="") as handle:
        codes = [row["kode_wilayah"] for row in csv.DictReader(handle)]
    assert len(codes) == 27
    for code in codes:
        digits = normalize_kelurahan_code(code)
        assert digits == code.replace(".", "")
        assert parse_stall_code(make_stall_code(code, 7)) == (digits, 7)


@fast
@given(st.one_of(st.text(), st.text(alphabet="0123456789-. \u2013", max_size=20)))
def test_parse_stall_code_only_raises_value_error(text):
    """Arbitrary text either parses or raises ValueError."""
    try:
        kelurahan, serial = parse_stall_code(text)
    except ValueError:
        return
    assert len(kelurahan) == 10
    assert 1 <= serial <= 99_999


@fast
@given(
    st.from_regex(r"[1-9][0-9]\.[1-9][0-9]\.[1-9][0-9]\.[12][0-9]{3}", fullmatch=True),
    st.integers(min_value=1, max_value=99_999),
    st.booleans(),
)
def test_make_then_parse_round_trips(code, serial, dotted):
    """A code made from a kelurahan and serial parses back to the same pair."""
    kelurahan = code if dotted else code.replace(".", "")
    assert parse_stall_code(make_stall_code(kelurahan, serial)) == (code.replace(".", ""), serial)
