"""Stall codes printed on QR posters, such as "3577011001-00042".

A code is the kelurahan's 10-digit Kemendagri code without dots (35.77.01.1001 becomes
3577011001), a dash, and a 5-digit serial within that kelurahan. Regions are data, not code:
any well-formed kelurahan/desa code is accepted here and callers check it against the loaded
region list. Parsing forgives spaces, dots, a missing dash, typographic dashes and a serial
typed without its leading zeros; codes hold no letters, so letter case never matters.
"""

import re

from flask_babel import lazy_gettext as _l

KELURAHAN_DIGITS = 10
SERIAL_DIGITS = 5
MAX_SERIAL = 10**SERIAL_DIGITS - 1

_NOISE = re.compile(r"[\s.]+")
# Phones and word processors turn "-" into typographic dashes or a minus sign.
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_WITH_DASH = re.compile(r"([0-9]{10})-([0-9]{1,5})")
_WITHOUT_DASH = re.compile(r"([0-9]{10})([0-9]{5})")
_KELURAHAN = re.compile(r"[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}\.?[0-9]{4}")


def normalize_kelurahan_code(code: str) -> str:
    """Return a kelurahan code such as "35.77.01.1001" as its 10 digits, "3577011001"."""
    cleaned = code.strip()
    if not _KELURAHAN.fullmatch(cleaned):
        raise ValueError(
            _l(
                "Kode kelurahan tidak valid: '%(code)s' (contoh: 35.77.01.1001 atau 3577011001).",
                code=code,
            )
        )
    digits = cleaned.replace(".", "")
    # Kemendagri numbers every level from 1, so an all-zero part marks a typo, not a region.
    if "00" in (digits[0:2], digits[2:4], digits[4:6]) or digits[6:] == "0000":
        raise ValueError(
            _l("Kode kelurahan tidak valid: '%(code)s' (ada bagian bernilai nol).", code=code)
        )
    return digits


def _check_serial(serial: int) -> int:
    """Return the serial if it is 1 to 99999, else raise ValueError."""
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(
            _l(
                "Nomor urut lapak harus 1 sampai %(max)d, bukan %(serial)s.",
                max=MAX_SERIAL,
                serial=serial,
            )
        )
    return serial


def make_stall_code(kelurahan_code: str, serial: int) -> str:
    """Build the stall code for a kelurahan code (dotted or not) and a serial number."""
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError(_l("Nomor urut lapak harus bilangan bulat."))
    digits = normalize_kelurahan_code(kelurahan_code)
    return f"{digits}-{_check_serial(serial):0{SERIAL_DIGITS}d}"


def parse_stall_code(text: str) -> tuple[str, int]:
    """Parse a stall code as typed or scanned into (kelurahan digits, serial)."""
    cleaned = _DASHES.sub("-", _NOISE.sub("", text))
    match = _WITH_DASH.fullmatch(cleaned) or _WITHOUT_DASH.fullmatch(cleaned)
    if not match:
        raise ValueError(
            _l(
                "Kode lapak tidak dikenali: '%(text)s'. Formatnya 10 angka kode kelurahan, "
                "tanda hubung, lalu 5 angka nomor urut (contoh: 3577011001-00042).",
                text=text.strip(),
            )
        )
    kelurahan, serial = match.groups()
    return normalize_kelurahan_code(kelurahan), _check_serial(int(serial))
