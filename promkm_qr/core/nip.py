"""NIP of PNS and NI of PPPK: the 18-digit number that identifies an ASN in every report.

Layout (1-based digit positions): 1-8 birth date YYYYMMDD; 9-14 for PNS the TMT CPNS
(appointment) YYYYMM; 15 gender (1 male, 2 female); 16-18 serial. The NI PPPK shares the birth
date, the appointment year in 9-12 and the gender digit, but what digits 13-14 mean differs
between sources.

Telling them apart: digits 13-14 are read as a month first. If they are 01-12 the number is
taken as a PNS NIP and its appointment month is checked; otherwise it is taken as an NI PPPK
(BKN numbers seen in the wild carry a code such as "21" there, which is no month) and only the
appointment year is checked, as DOMAIN.md asks. A PPPK number whose code happens to look like a
month is therefore labelled PNS; it then meets the same checks at month precision, so the
label, not the acceptance, is what may be wrong. Callers that know the kind from HR data should
trust that over ``Nip.kind``.

"After the 18th birthday" is checked at month precision, since a TMT is always the first of a
month: the appointment month may not precede the month of the 18th birthday.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from flask_babel import lazy_gettext as _l

from promkm_qr.core.dates import now_wib

NIP_LENGTH = 18

_LABEL = re.compile(r"^\s*nip\.?\s*:?", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s.\-]+")
_DIGITS = re.compile(r"[0-9]+")


class InvalidNip(ValueError):
    """A NIP or NI PPPK that does not meet the rules; the message is for the user."""


@dataclass(frozen=True)
class Nip:
    """The parts of a valid NIP or NI PPPK."""

    digits: str
    birth_date: date
    appointment: tuple[int, int | None]  # (year, month); month is None for PPPK
    gender: Literal["L", "P"]  # laki-laki / perempuan, as on Indonesian forms
    serial: str
    kind: Literal["PNS", "PPPK"]

    @property
    def formatted(self) -> str:
        """Return the NIP grouped as "19860926 201505 1 001"."""
        return format_nip(self.digits)


def normalize_nip(text: str) -> str:
    """Return the 18 digits of a NIP typed with an optional "NIP." label, spaces, dots or dashes."""
    cleaned = _SEPARATORS.sub("", _LABEL.sub("", text, count=1))
    if not cleaned:
        raise InvalidNip(_l("NIP wajib diisi."))
    if not _DIGITS.fullmatch(cleaned):
        raise InvalidNip(_l("NIP hanya boleh berisi angka."))
    if len(cleaned) != NIP_LENGTH:
        raise InvalidNip(
            _l(
                "Panjang NIP salah: harus %(length)d digit, tertulis %(typed)d digit.",
                length=NIP_LENGTH,
                typed=len(cleaned),
            )
        )
    return cleaned


def _birth_date(digits: str, today: date) -> date:
    """Return the birth date in digits 1-8, or raise InvalidNip if it is not a plausible date."""
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or born > today:
        raise InvalidNip(
            _l(
                "Tanggal lahir pada NIP tidak valid: %(digits)s (format TTTTBBHH).",
                digits=digits[0:8],
            )
        )
    return born


def parse_nip(text: str, today: date | None = None) -> Nip:
    """Parse and validate a PNS NIP or NI PPPK, judging "the future" against today in WIB."""
    digits = normalize_nip(text)
    today = today or now_wib().date()
    born = _birth_date(digits, today)

    if digits[14] not in "12":
        raise InvalidNip(_l("Kode jenis kelamin pada NIP (digit ke-15) harus 1 atau 2."))

    year, code = int(digits[8:12]), int(digits[12:14])
    if 1 <= code <= 12:
        kind: Literal["PNS", "PPPK"] = "PNS"
        appointment: tuple[int, int | None] = (year, code)
        tmt, adult, current = (year, code), (born.year + 18, born.month), (today.year, today.month)
    else:
        kind, appointment = "PPPK", (year, None)
        tmt, adult, current = (year,), (born.year + 18,), (today.year,)

    if tmt < adult:
        raise InvalidNip(_l("TMT pengangkatan pada NIP jatuh sebelum usia 18 tahun."))
    if tmt > current:
        raise InvalidNip(_l("TMT pengangkatan pada NIP berada di masa depan."))

    return Nip(
        digits=digits,
        birth_date=born,
        appointment=appointment,
        gender="L" if digits[14] == "1" else "P",
        serial=digits[15:18],
        kind=kind,
    )


def format_nip(digits: str) -> str:
    """Group a NIP as "19860926 201505 1 001", the way it is printed under a signature."""
    d = normalize_nip(digits)
    return f"{d[0:8]} {d[8:14]} {d[14]} {d[15:18]}"
