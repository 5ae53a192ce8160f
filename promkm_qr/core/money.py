"""Rupiah amounts: an integer number of rupiah, parsed from what people type and formatted back.

Accepted input: "50000", "50.000", "Rp50.000", "Rp 50.000", "rp. 1.250.000", "1.250.000,00",
"IDR 50000" and the receipt habit "Rp50.000,-". A dot always groups thousands (as in
Indonesian writing), so "50000.00" is refused rather than guessed at. A comma may only end in
zero cents, since rupiah are counted whole. Zero parses as 0: range rules (minimum purchase
etc.) belong to the caller.
"""

import re

from flask_babel import lazy_gettext as _l

MAX_DIGITS = 15

# Generous enough for any honest amount with separators; longer text is refused before the
# regular expressions run.
_MAX_TEXT_LENGTH = 40

_PREFIX = re.compile(r"(?:rp|idr)\.?\s*", re.IGNORECASE)
_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_PLAIN = re.compile(r"[0-9]+")
_CENTS = re.compile(r"(?:,0{1,2}|,-)?")


def parse_rupiah(text: str) -> int:
    """Parse a rupiah amount typed by a person into an integer number of rupiah."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(_l("Nominal wajib diisi."))
    if len(cleaned) > _MAX_TEXT_LENGTH:
        raise ValueError(_l("Nominal terlalu panjang."))
    # "Rp50.000,-" is the receipt way of writing "no cents", not a minus sign.
    if re.search("[-\u2212]", cleaned.replace(",-", "")):
        raise ValueError(_l("Nominal tidak boleh negatif."))

    prefix = _PREFIX.match(cleaned)
    number = cleaned[prefix.end() :] if prefix else cleaned

    whole, sep, cents = number.partition(",")
    if sep and not _CENTS.fullmatch(sep + cents):
        raise ValueError(
            _l(
                "Nominal rupiah tidak boleh memiliki sen; gunakan titik sebagai pemisah ribuan "
                "(contoh: Rp1.250.000)."
            )
        )
    if not (_PLAIN.fullmatch(whole) or _GROUPED.fullmatch(whole)):
        raise ValueError(
            _l(
                "Nominal tidak dikenali: '%(text)s'. Tulis angka rupiah, "
                "contoh: 50000, 50.000 atau Rp50.000.",
                text=text.strip(),
            )
        )

    digits = whole.replace(".", "")
    if len(digits.lstrip("0")) > MAX_DIGITS:
        raise ValueError(_l("Nominal terlalu besar (lebih dari %(max)d digit).", max=MAX_DIGITS))
    return int(digits)


def format_rupiah(amount: int) -> str:
    """Format an integer number of rupiah as "Rp1.250.000" (negative: "-Rp5.000")."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(_l("Nominal rupiah harus bilangan bulat."))
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")
