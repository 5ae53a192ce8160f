"""Tests for QRIS payload parsing and its CRC."""

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promkm_qr.core.qris import InvalidQris, crc16_ccitt_false, parse_qris

# Shared CI machines are slow at times; a per-example deadline would only add flakiness.
fast = settings(deadline=None)

DANA = (
    "00020101021126570011ID.DANA.WWW011893600915302259148102090225914810303UMI51440014"
    "ID.CO.QRIS.WWW0215ID10200176114730303UMI5204581253033605802ID5922Warung Sayur Bu Sugeng"
    "6010Kab. Demak610559567630458C7"
)
# What each label in qris_samples.txt must produce: None parses, a string is the error text.
EXPECTED_BY_LABEL = {"valid": None, "bad-crc": "CRC QRIS salah", "truncated": "terpotong"}


def shared_data_dir() -> Path | None:
    """Return the shared test-data folder next to the repo, else $PROMKM_SHARED_DATA."""
    beside_repo = Path(__file__).parents[2].parent / "shared" / "data"
    if beside_repo.is_dir():
        return beside_repo
    from_env = os.environ.get("PROMKM_SHARED_DATA")
    return Path(from_env) if from_env else None


def load_samples() -> list:
    """Return one pytest param per labelled payload in qris_samples.txt."""
    folder = shared_data_dir()
    if folder is None or not (folder / "qris_samples.txt").is_file():
        reason = "qris_samples.txt not found (set PROMKM_SHARED_DATA)"
        return [pytest.param("valid", DANA, marks=pytest.mark.skip(reason=reason))]
    params = []
    lines = (folder / "qris_samples.txt").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.startswith("#"):
            label, payload = line.split("\t", 1)
            params.append(pytest.param(label, payload, id=f"line{number}-{label}"))
    return params


def build(fields: dict[str, str]) -> str:
    """Encode tags as TLV and append tag 63 with the correct CRC."""
    body = "".join(f"{tag}{len(value):02d}{value}" for tag, value in fields.items()) + "6304"
    return body + f"{crc16_ccitt_false(body.encode()):04X}"


def base_fields(**changes: str | None) -> dict[str, str]:
    """Return the fields of a typical static QRIS, with some tags changed or (None) removed."""
    fields = {
        "00": "01",
        "01": "11",
        "26": "0011ID.DANA.WWW0118936009153022591481",
        "51": "0014ID.CO.QRIS.WWW0215ID10200176114730303UMI",
        "52": "5812",
        "53": "360",
        "58": "ID",
        "59": "Lapak Bu Sri",
        "60": "MADIUN",
        "61": "63131",
    }
    for tag, value in changes.items():
        key = tag.removeprefix("t")
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return fields


def test_crc16_ccitt_false_check_value():
    """The catalogue check value of CRC-16/CCITT-FALSE over "123456789" is 0x29B1."""
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


@pytest.mark.parametrize(("label", "payload"), load_samples())
def test_samples_parse_or_fail_as_labelled(label, payload):
    """Every sample in the shared file behaves as its label says."""
    assert label in EXPECTED_BY_LABEL, f"unknown label {label!r}: add it to EXPECTED_BY_LABEL"
    expected_error = EXPECTED_BY_LABEL[label]
    if expected_error is None:
        assert parse_qris(payload).nmid.startswith("ID")
    else:
        with pytest.raises(InvalidQris, match=expected_error):
            parse_qris(payload)


def test_parse_qris_fields():
    """A real static QRIS yields its merchant, NMID and criteria."""
    info = parse_qris(DANA + "\n")
    assert info.point_of_initiation == "static"
    assert info.merchant_name == "Warung Sayur Bu Sugeng"
    assert info.merchant_city == "Kab. Demak"
    assert info.postal_code == "59567"
    assert info.mcc == "5812"
    assert info.currency == "360"
    assert info.nmid == "ID1020017611473"
    assert info.merchant_criteria == "UMI"
    assert info.amount is None
    assert info.fields["63"] == "58C7"
    assert list(info.fields) == ["00", "01", "26", "51", "52", "53", "58", "59", "60", "61", "63"]


def test_dynamic_qris_with_amount():
    """A dynamic QRIS carries a whole-rupiah amount, with or without ".00"."""
    info = parse_qris(build(base_fields(t01="12", t54="50000.00")))
    assert info.point_of_initiation == "dynamic"
    assert info.amount == 50_000
    assert parse_qris(build(base_fields(t54="15000"))).amount == 15_000


def test_optional_tags_may_be_absent():
    """Tags 01, 61 and the criteria sub-tag are optional."""
    info = parse_qris(
        build(base_fields(t01=None, t61=None, t51="0014ID.CO.QRIS.WWW0215ID1020017611473"))
    )
    assert info.point_of_initiation is None
    assert info.postal_code is None
    assert info.merchant_criteria is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "kosong"),
        ("   \n", "kosong"),
        ("abc", "terpotong"),
        ("abcdef", "Struktur QRIS rusak"),
        ("000201", "CRC \\(tag 63\\) tidak ada"),
        ("0002010102116304", "terpotong"),
        ("0002016304ABCD010211", "harus elemen terakhir"),
        (DANA[:-4] + DANA[-4:].lower(), "CRC QRIS salah"),
        (DANA[:-1], "terpotong"),
        (DANA + "0", "terpotong"),
        ("1" * 600, "terlalu panjang"),
        ("000201\ud800" + "6304ABCD", "Struktur QRIS rusak"),
        ("000201" + "0101\ud800" + "6304ABCD", "karakter yang tidak valid"),
        (build({"00": "02", "52": "5812"}), "tag 00 bernilai 01"),
        (build({"01": "11", "00": "01"}), "tag 00 bernilai 01"),
        (build(base_fields(t59=None)), "nama merchant \\(tag 59\\)"),
        (build(base_fields(t59="")), "nama merchant"),
        (build(base_fields(t51=None)), "tag 51"),
        (build(base_fields(t51="0014ID.CO.QRIS.WWX0215ID1020017611473")), "Bukan QRIS"),
        (build(base_fields(t51="0014ID.CO.QRIS.WWW0215XX1020017611473")), "NMID"),
        (build(base_fields(t51="0014ID.CO.QRIS.WWW0213ID10200176114")), "NMID"),
        (build(base_fields(t51="0014ID.CO.QRIS.WWW0215ID10200176114730303XYZ")), "Kriteria"),
        (build(base_fields(t51="0014ID.CO.QRIS.WWW0215ID102001761147303")), "terpotong"),
        (build(base_fields(t01="13")), "tag 01"),
        (build(base_fields(t52="58A2")), "tag 52"),
        (build(base_fields(t53="840")), "rupiah"),
        (build(base_fields(t58="MY")), "negara"),
        (build(base_fields(t54="1500.50")), "rupiah bulat"),
        (build(base_fields(t54="-100")), "rupiah bulat"),
        (build(base_fields()).replace("5802ID", "5802MY"), "CRC QRIS salah"),
    ],
)
def test_parse_qris_rejects_with_reason(payload, message):
    """Every flaw is reported as InvalidQris with an Indonesian reason."""
    with pytest.raises(InvalidQris, match=message):
        parse_qris(payload)


def test_duplicate_tag_is_rejected():
    """A tag repeated at the top level is refused even with a correct CRC."""
    body = "000201" + "5802ID" * 2 + "6304"
    with pytest.raises(InvalidQris, match="dua kali"):
        parse_qris(body + f"{crc16_ccitt_false(body.encode()):04X}")


def test_non_string_is_rejected():
    """Even a wrong type raises InvalidQris, so callers need one except clause."""
    with pytest.raises(InvalidQris, match="teks"):
        parse_qris(None)


@fast
@given(st.one_of(st.text(), st.text(alphabet="0123456789ABCDEF.", max_size=80)))
def test_arbitrary_text_only_raises_invalid_qris(text):
    """Any string parses or raises InvalidQris, never another exception."""
    with contextlib.suppress(InvalidQris):
        parse_qris(text)


@fast
@given(st.data())
def test_any_single_character_change_is_caught(data):
    """Replacing one character of a valid payload by another ASCII character is detected."""
    index = data.draw(st.integers(min_value=0, max_value=len(DANA) - 1))
    char = data.draw(st.characters(min_codepoint=32, max_codepoint=126))
    if char == DANA[index]:
        return
    with pytest.raises(InvalidQris):
        parse_qris(DANA[:index] + char + DANA[index + 1 :])


@fast
@given(st.data())
def test_arbitrary_edits_only_raise_invalid_qris(data):
    """Deleting or inserting arbitrary text in a valid payload never crashes the parser."""
    start = data.draw(st.integers(min_value=0, max_value=len(DANA)))
    stop = data.draw(st.integers(min_value=start, max_value=len(DANA)))
    with contextlib.suppress(InvalidQris):
        parse_qris(DANA[:start] + data.draw(st.text(max_size=5)) + DANA[stop:])


ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=25)


@fast
@given(
    name=ascii_text,
    city=ascii_text.filter(lambda c: len(c) <= 15),
    postal=st.none() | st.from_regex(r"[0-9]{5}", fullmatch=True),
    mcc=st.from_regex(r"[0-9]{4}", fullmatch=True),
    nmid=st.from_regex(r"ID[0-9]{13}", fullmatch=True),
    criteria=st.sampled_from(["UMI", "UKE", "UME", "UBE"]),
    amount=st.none() | st.integers(min_value=1, max_value=10**12),
    extra=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
def test_built_payload_round_trips(name, city, postal, mcc, nmid, criteria, amount, extra):
    """A payload built with a correct CRC parses back into the same fields."""
    fields = {"00": "01", "01": "12" if amount else "11"}
    fields["51"] = f"0014ID.CO.QRIS.WWW0215{nmid}0303{criteria}"
    fields |= {"52": mcc, "53": "360"}
    if amount is not None:
        fields["54"] = str(amount)
    fields |= {"58": "ID", "59": name, "60": city}
    if postal is not None:
        fields["61"] = postal
    if extra is not None:
        fields["62"] = extra
    payload = build(fields)

    info = parse_qris(payload)

    assert info.fields == fields | {"63": payload[-4:]}
    assert (info.merchant_name, info.merchant_city, info.postal_code) == (name, city, postal)
    assert (info.mcc, info.nmid, info.merchant_criteria, info.amount) == (
        mcc,
        nmid,
        criteria,
        amount,
    )
    assert info.point_of_initiation == ("dynamic" if amount else "static")
