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

from flask_babel import lazy_gettext as _l

QRIS_GUID = "ID.CO.QRIS.WWW"
MERCHANT_CRITERIA = ("UMI", "UKE", "UME", "UBE")
# EMVCo caps a merchant-presented payload at 512 characters.
MAX_PAYLOAD_LENGTH = 512

_TWO_DIGITS = re.compile(r"[0-9]{2}")
_NMID = re.compile(r"ID[0-9]{13}")
_MCC = re.compile(r"[0-9]{4}")
_WHOLE_AMOUNT = re.compile(r"([0-9]{1,13})(?:\.0{1,2})?")
_REQUIRED = {
    "51": _l("informasi QRIS (ID.CO.QRIS.WWW)"),
    "52": _l("kode kategori merchant (MCC)"),
    "53": _l("mata uang"),
    "58": _l("kode negara"),
    "59": _l("nama merchant"),
    "60": _l("kota merchant"),
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
            raise InvalidQris(
                _l("Data QRIS terpotong: %(where)s berakhir di tengah elemen.", where=where)
            )
        if not (_TWO_DIGITS.fullmatch(tag) and _TWO_DIGITS.fullmatch(length)):
            raise InvalidQris(
                _l(
                    "Struktur QRIS rusak: %(where)s posisi %(pos)d "
                    "bukan tag dan panjang dua digit.",
                    where=where,
                    pos=pos,
                )
            )
        end = pos + 4 + int(length)
        if end > len(data):
            raise InvalidQris(
                _l(
                    "Data QRIS terpotong: tag %(tag)s %(where)s kurang dari %(length)s karakter.",
                    tag=tag,
                    where=where,
                    length=length,
                )
            )
        if tag in fields:
            # A repeated tag would let two readers see two different merchants.
            raise InvalidQris(
                _l(
                    "Struktur QRIS rusak: tag %(tag)s %(where)s muncul dua kali.",
                    tag=tag,
                    where=where,
                )
            )
        fields[tag] = data[pos + 4 : end]
        pos = end
    return fields


def _check_crc(payload: str, fields: dict[str, str]) -> None:
    """Raise InvalidQris unless tag 63 closes the payload with its correct CRC."""
    if "63" not in fields:
        raise InvalidQris(_l("Data QRIS terpotong: CRC (tag 63) tidak ada."))
    if list(fields)[-1] != "63" or len(fields["63"]) != 4:
        raise InvalidQris(
            _l("Struktur QRIS rusak: CRC (tag 63) harus elemen terakhir, 4 karakter.")
        )
    try:
        data = payload[:-4].encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQris(_l("Data QRIS berisi karakter yang tidak valid.")) from None
    expected = f"{crc16_ccitt_false(data):04X}"
    if fields["63"] != expected:
        raise InvalidQris(
            _l(
                "CRC QRIS salah: data rusak atau terbaca keliru (tertulis %(written)s, "
                "seharusnya %(expected)s). Pindai ulang kode QR.",
                written=fields["63"],
                expected=expected,
            )
        )


def _qris_template(value: str) -> tuple[str, str | None]:
    """Return (NMID, criteria) from the tag 51 template, raising InvalidQris if malformed."""
    sub = _split_tlv(value, _l("dalam tag 51"))
    if sub.get("00") != QRIS_GUID:
        raise InvalidQris(_l("Bukan QRIS: tag 51 tidak berisi %(guid)s.", guid=QRIS_GUID))
    nmid = sub.get("02", "")
    if not _NMID.fullmatch(nmid):
        raise InvalidQris(_l("NMID QRIS tidak valid: harus 'ID' diikuti 13 angka."))
    criteria = sub.get("03")
    if criteria is not None and criteria not in MERCHANT_CRITERIA:
        raise InvalidQris(
            _l("Kriteria merchant QRIS tidak dikenal: '%(criteria)s'.", criteria=criteria)
        )
    return nmid, criteria


def _amount(value: str | None) -> int | None:
    """Return the whole-rupiah amount of tag 54, or None when the QRIS has no amount."""
    if value is None:
        return None
    match = _WHOLE_AMOUNT.fullmatch(value)
    if not match:
        raise InvalidQris(_l("Nominal pada QRIS tidak valid: harus rupiah bulat."))
    return int(match.group(1))


def parse_qris(payload: str) -> QrisInfo:
    """Parse and verify a QRIS payload, raising InvalidQris with a reason if it is not intact."""
    if not isinstance(payload, str):
        raise InvalidQris(_l("Data QRIS harus berupa teks."))
    # Scanners and copy-paste add trailing newlines; they are not part of the payload.
    payload = payload.strip()
    if not payload:
        raise InvalidQris(_l("Data QRIS kosong."))
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise InvalidQris(
            _l("Data QRIS terlalu panjang (lebih dari %(max)d karakter).", max=MAX_PAYLOAD_LENGTH)
        )

    fields = _split_tlv(payload, _l("pada data"))
    if next(iter(fields)) != "00" or fields["00"] != "01":
        raise InvalidQris(_l("Bukan QRIS: elemen pertama harus tag 00 bernilai 01."))
    _check_crc(payload, fields)

    for tag, label in _REQUIRED.items():
        if not fields.get(tag):
            raise InvalidQris(
                _l("QRIS tidak lengkap: %(what)s (tag %(tag)s) tidak ada.", what=label, tag=tag)
            )
    initiation = fields.get("01")
    if initiation is not None and initiation not in _INITIATION:
        raise InvalidQris(_l("Metode QRIS (tag 01) harus 11 (statis) atau 12 (dinamis)."))
    if not _MCC.fullmatch(fields["52"]):
        raise InvalidQris(_l("Kode kategori merchant QRIS (tag 52) harus 4 angka."))
    if fields["53"] != "360":
        raise InvalidQris(_l("Mata uang QRIS harus rupiah (kode 360)."))
    if fields["58"] != "ID":
        raise InvalidQris(_l("Kode negara QRIS harus ID."))
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
