"""Personal and business numbers other than the NIP: NIK, NIB and phone numbers.

NIK (16 digits): province 2, regency/city 2, district 2, birth date DDMMYY with 40 added to
the day for women, serial 4. It carries no checksum, so validation is structural. The
two-digit year is resolved to the most recent century that puts the birth date on or before
today, which keeps the age between 0 and 100.

A NIK is personal data: show it only through ``mask_nik``, which keeps the length and reveals
the first 4 digits (province and city, shared by everyone in Kota Madiun) and the last 2 (enough
to tell two people apart in a list) while hiding the birth date.

Phone numbers are Indonesian mobile numbers, stored in the national form "08xxxxxxxxxx"
(10 to 13 digits), which is how people read them aloud and how WhatsApp links are built after
swapping the 0 for 62. Input may start with +62, 62 or 08.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from flask_babel import lazy_gettext as _l

from promkm_qr.core.dates import now_wib

NIK_LENGTH = 16
NIB_LENGTH = 13

_SEPARATORS = re.compile(r"[\s.\-()/]+")
_DIGITS = re.compile(r"[0-9]+")


class InvalidNik(ValueError):
    """A NIK that does not meet the structural rules; the message is for the user."""


@dataclass(frozen=True)
class Nik:
    """The parts of a valid NIK; region codes are digit prefixes such as "3577"."""

    digits: str
    province_code: str  # "35"
    regency_code: str  # "3577"
    district_code: str  # "357701"
    birth_date: date
    gender: Literal["L", "P"]  # laki-laki / perempuan
    serial: str


def _digits(text: str, length: int, label: str, error: type[ValueError]) -> str:
    """Return text without separators if it is exactly `length` ASCII digits, else raise."""
    cleaned = _SEPARATORS.sub("", text)
    if not cleaned:
        raise error(_l("%(label)s wajib diisi.", label=label))
    if not _DIGITS.fullmatch(cleaned):
        raise error(_l("%(label)s hanya boleh berisi angka.", label=label))
    if len(cleaned) != length:
        raise error(
            _l(
                "Panjang %(label)s salah: harus %(length)d digit, tertulis %(typed)d digit.",
                label=label,
                length=length,
                typed=len(cleaned),
            )
        )
    return cleaned


def _resolve_birth_date(day: int, month: int, yy: int, today: date) -> date:
    """Return the latest real date with this day, month and two-digit year not after today."""
    century = today.year // 100 * 100
    for year in (century + yy, century - 100 + yy):
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        if born <= today:
            return born
    raise InvalidNik(_l("Tanggal lahir pada NIK tidak valid."))


def parse_nik(text: str, today: date | None = None) -> Nik:
    """Parse and validate a NIK, resolving its two-digit birth year against today in WIB."""
    digits = _digits(text, NIK_LENGTH, "NIK", InvalidNik)
    if "00" in (digits[0:2], digits[2:4], digits[4:6]):
        raise InvalidNik(_l("Kode wilayah pada NIK tidak valid (provinsi, kota, kecamatan)."))

    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    gender: Literal["L", "P"] = "P" if day > 40 else "L"
    if gender == "P":
        day -= 40
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise InvalidNik(_l("Tanggal lahir pada NIK tidak valid."))
    born = _resolve_birth_date(day, month, yy, today or now_wib().date())

    return Nik(
        digits=digits,
        province_code=digits[0:2],
        regency_code=digits[0:4],
        district_code=digits[0:6],
        birth_date=born,
        gender=gender,
        serial=digits[12:16],
    )


def mask_nik(text: str) -> str:
    """Mask a NIK for display as "3577**********01" (first 4 and last 2 digits shown)."""
    digits = _digits(text, NIK_LENGTH, "NIK", InvalidNik)
    return digits[:4] + "*" * (NIK_LENGTH - 6) + digits[-2:]


def validate_nib(text: str) -> str:
    """Return the 13 digits of a NIB (OSS business number), which has no public structure."""
    return _digits(text, NIB_LENGTH, "NIB", ValueError)


def normalize_phone(text: str) -> str:
    """Return an Indonesian mobile number in the canonical national form "08xxxxxxxxxx"."""
    cleaned = _SEPARATORS.sub("", text)
    if not cleaned:
        raise ValueError(_l("Nomor HP wajib diisi."))
    for prefix in ("+62", "62", "0"):
        if cleaned.startswith(prefix):
            # People often keep the 0 after typing the country code: "+62 0812...".
            national = cleaned[len(prefix) :]
            if prefix != "0" and national.startswith("0"):
                national = national[1:]
            break
    else:
        raise ValueError(_l("Nomor HP harus diawali 08, 62 atau +62."))
    if not _DIGITS.fullmatch(national) or not national.startswith("8"):
        raise ValueError(_l("Nomor HP tidak valid: gunakan nomor seluler, contoh 081234567890."))
    phone = "0" + national
    if not 10 <= len(phone) <= 13:
        raise ValueError(_l("Panjang nomor HP harus 10 sampai 13 digit (format 08...)."))
    return phone


def mask_phone(text: str) -> str:
    """Mask a mobile number for display as "0812*****890" (first 4 and last 3 digits shown)."""
    phone = normalize_phone(text)
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]
