"""QRIS payloads: the national payment QR (EMVCo merchant-presented mode) that stalls display.

The product reads a stall's QRIS to learn its NMID and merchant name, so a payload is accepted
only when it is intact: a well-formed TLV string (two-digit tag, two-digit length, exactly that
many characters), tag 00 first with "01", tag 63 last holding the CRC-16/CCITT-FALSE of
everything up to and including "6304" as 4 upper-case hex digits, and the fields this product
relies on present and well-formed. Only the template in tag 51 (ID.CO.QRIS.WWW, which carries
the NMID) is opened; provider templates 26-45 and additional data 62 are kept as raw values.

Lengths count characters and the CRC is taken over UTF-8 bytes; the two agree for the ASCII
payloads QRIS issuers print. Whatever string comes in, the only exception raised is InvalidQris.
"""

import re
from dataclasses import dataclass
from typing import Literal

QRIS_GUID = "ID.CO.QRIS.WWW"
MERCHANT_CRITERIA = ("UMI", "UKE", "UME", "UBE")
# EMVCo caps a merchant-presented payload at 512 characters.
MAX_PAYLOAD_LENGTH = 512

_TWO_DIGITS = re.compile(r"[0-9]{2}")
_NMID = re.compile(r"ID[0-9]{13}")
_MCC = re.compile(r"[0-9]{4}")
_WHOLE_AMOUNT = re.compile(r"([0-9]{1,13})(?:\.0{1,2})?")
_REQUIRED = {
    "51": "informasi QRIS (ID.CO.QRIS.WWW)",
    "52": "kode kategori merchant (MCC)",
    "53": "mata uang",
    "58": "kode negara",
    "59": "nama merchant",
    "60": "kota merchant",
}
_INITIATION: dict[str, Literal["static", "dynamic"]] = {"11": "static", "12": "dynamic"}


class InvalidQris(ValueError):
    """A payload that is not an intact QRIS; the message is for the user."""


@dataclass(frozen=True)
class QrisInfo:
    """What a valid QRIS tells about its merchant; `fields` holds every top-level tag."""

    fields: dict[str, str]
    point_of_initiation: Literal["static", "dynamic"] | None
    merchant_name: str
    merchant_city: str
    postal_code: str | None
    mcc: str
    currency: str
    nmid: str
    merchant_criteria: str | None
    amount: int | None


def crc16_ccitt_false(data: bytes) -> int:
    """Return the CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of data."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = (crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1
        crc &= 0xFFFF
    return crc


def _split_tlv(data: str, where: str) -> dict[str, str]:
    """Split a TLV string into tag -> value, in order, raising InvalidQris on any flaw."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        tag, length = data[pos : pos + 2], data[pos + 2 : pos + 4]
        if len(tag) + len(length) < 4:
            raise InvalidQris(f"Data QRIS terpotong: {where} berakhir di tengah elemen.")
        if not (_TWO_DIGITS.fullmatch(tag) and _TWO_DIGITS.fullmatch(length)):
            raise InvalidQris(
                f"Struktur QRIS rusak: {where} posisi {pos} bukan tag dan panjang dua digit."
            )
        end = pos + 4 + int(length)
        if end > len(data):
            raise InvalidQris(
                f"Data QRIS terpotong: tag {tag} {where} kurang dari {length} karakter."
            )
        if tag in fields:
            # A repeated tag would let two readers see two different merchants.
            raise InvalidQris(f"Struktur QRIS rusak: tag {tag} {where} muncul dua kali.")
        fields[tag] = data[pos + 4 : end]
        pos = end
    return fields


def _check_crc(payload: str, fields: dict[str, str]) -> None:
    """Raise InvalidQris unless tag 63 closes the payload with its correct CRC."""
    if "63" not in fields:
        raise InvalidQris("Data QRIS terpotong: CRC (tag 63) tidak ada.")
    if list(fields)[-1] != "63" or len(fields["63"]) != 4:
        raise InvalidQris("Struktur QRIS rusak: CRC (tag 63) harus elemen terakhir, 4 karakter.")
    try:
        data = payload[:-4].encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQris("Data QRIS berisi karakter yang tidak valid.") from None
    expected = f"{crc16_ccitt_false(data):04X}"
    if fields["63"] != expected:
        raise InvalidQris(
            f"CRC QRIS salah: data rusak atau terbaca keliru (tertulis {fields['63']}, "
            f"seharusnya {expected}). Pindai ulang kode QR."
        )


def _qris_template(value: str) -> tuple[str, str | None]:
    """Return (NMID, criteria) from the tag 51 template, raising InvalidQris if malformed."""
    sub = _split_tlv(value, "dalam tag 51")
    if sub.get("00") != QRIS_GUID:
        raise InvalidQris(f"Bukan QRIS: tag 51 tidak berisi {QRIS_GUID}.")
    nmid = sub.get("02", "")
    if not _NMID.fullmatch(nmid):
        raise InvalidQris("NMID QRIS tidak valid: harus 'ID' diikuti 13 angka.")
    criteria = sub.get("03")
    if criteria is not None and criteria not in MERCHANT_CRITERIA:
        raise InvalidQris(f"Kriteria merchant QRIS tidak dikenal: {criteria!r}.")
    return nmid, criteria


def _amount(value: str | None) -> int | None:
    """Return the whole-rupiah amount of tag 54, or None when the QRIS has no amount."""
    if value is None:
        return None
    match = _WHOLE_AMOUNT.fullmatch(value)
    if not match:
        raise InvalidQris("Nominal pada QRIS tidak valid: harus rupiah bulat.")
    return int(match.group(1))


def parse_qris(payload: str) -> QrisInfo:
    """Parse and verify a QRIS payload, raising InvalidQris with a reason if it is not intact."""
    if not isinstance(payload, str):
        raise InvalidQris("Data QRIS harus berupa teks.")
    # Scanners and copy-paste add trailing newlines; they are not part of the payload.
    payload = payload.strip()
    if not payload:
        raise InvalidQris("Data QRIS kosong.")
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise InvalidQris(f"Data QRIS terlalu panjang (lebih dari {MAX_PAYLOAD_LENGTH} karakter).")

    fields = _split_tlv(payload, "pada data")
    if next(iter(fields)) != "00" or fields["00"] != "01":
        raise InvalidQris("Bukan QRIS: elemen pertama harus tag 00 bernilai 01.")
    _check_crc(payload, fields)

    for tag, label in _REQUIRED.items():
        if not fields.get(tag):
            raise InvalidQris(f"QRIS tidak lengkap: {label} (tag {tag}) tidak ada.")
    initiation = fields.get("01")
    if initiation is not None and initiation not in _INITIATION:
        raise InvalidQris("Metode QRIS (tag 01) harus 11 (statis) atau 12 (dinamis).")
    if not _MCC.fullmatch(fields["52"]):
        raise InvalidQris("Kode kategori merchant QRIS (tag 52) harus 4 angka.")
    if fields["53"] != "360":
        raise InvalidQris("Mata uang QRIS harus rupiah (kode 360).")
    if fields["58"] != "ID":
        raise InvalidQris("Kode negara QRIS harus ID.")
    nmid, criteria = _qris_template(fields["51"])

    return QrisInfo(
        fields=fields,
        point_of_initiation=_INITIATION[initiation] if initiation else None,
        merchant_name=fields["59"],
        merchant_city=fields["60"],
        postal_code=fields.get("61"),
        mcc=fields["52"],
        currency=fields["53"],
        nmid=nmid,
        merchant_criteria=criteria,
        amount=_amount(fields.get("54")),
    )
