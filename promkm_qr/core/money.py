"""Rupiah amounts: an integer number of rupiah, parsed from what people type and formatted back.

Accepted input: "50000", "50.000", "Rp50.000", "Rp 50.000", "rp. 1.250.000", "1.250.000,00",
"IDR 50000", the receipt habit "Rp50.000,-" and the English grouping of spreadsheets and
banking apps, "1,250,000" or "1,250,000.00". A dot or a comma followed by exactly three digits
groups thousands, so "1,250,000" is one million two hundred fifty thousand like "1.250.000"
(rupiah have no cents, so three digits after a comma cannot be a fraction). A comma followed
by one or two digits is a decimal comma ("12,50" is 12 rupiah 50 sen), and the same holds for
a dot after comma groups ("1,250.50"); a fraction other than zero is refused, since rupiah are
counted whole. One number uses one kind of grouping: "1.250,000" is refused rather than
guessed at, and so is "50000.00". Zero parses as 0: range rules (minimum purchase etc.)
belong to the caller.
"""

import re

from flask_babel import gettext as _

MAX_DIGITS = 15

# Generous enough for any honest amount with separators; longer text is refused before the
# regular expressions run.
_MAX_TEXT_LENGTH = 40

_PREFIX = re.compile(r"(?:rp|idr)\.?\s*", re.IGNORECASE)
# Indonesian: dots group thousands, a comma starts the cents. English: the other way round.
_INDONESIAN = re.compile(r"(?P<whole>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,(?P<cents>[0-9]{1,2}))?")
_ENGLISH = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+)(?:\.(?P<cents>[0-9]{1,2}))?")


def _separators() -> str:
    """How the separators are read, for the messages that refuse an amount."""
    return _(
        "Titik atau koma di depan tiga angka memisahkan ribuan (1.250.000 sama dengan "
        "1,250,000); koma di depan satu atau dua angka memulai sen."
    )


def parse_rupiah(text: str) -> int:
    """Parse a rupiah amount typed by a person into an integer number of rupiah."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(_("Nominal wajib diisi."))
    if len(cleaned) > _MAX_TEXT_LENGTH:
        raise ValueError(_("Nominal terlalu panjang."))
    # "Rp50.000,-" is the receipt way of writing "no cents", not a minus sign.
    number = cleaned.removesuffix(",-")
    if re.search("[-\u2212]", number):
        raise ValueError(_("Nominal tidak boleh negatif."))

    prefix = _PREFIX.match(number)
    number = number[prefix.end() :] if prefix else number
    found = _INDONESIAN.fullmatch(number) or _ENGLISH.fullmatch(number)
    if not found:
        raise ValueError(
            _(
                "Nominal tidak dikenali: “%(text)s”. Contoh: 50000, 50.000 atau Rp50.000.",
                text=cleaned,
            )
            + " "
            + _separators()
        )

    digits = re.sub("[.,]", "", found["whole"])
    if len(digits.lstrip("0")) > MAX_DIGITS:
        raise ValueError(_("Nominal terlalu besar (lebih dari %(n)s digit).", n=MAX_DIGITS))
    cents = (found["cents"] or "").ljust(2, "0")
    if int(cents):
        raise ValueError(
            _(
                "Nominal “%(text)s” dibaca %(amount)s lebih %(cents)s sen, padahal rupiah "
                "ditulis tanpa sen.",
                text=cleaned,
                amount=format_rupiah(int(digits)),
                cents=int(cents),
            )
            + " "
            + _separators()
        )
    return int(digits)


def format_rupiah(amount: int) -> str:
    """Format an integer number of rupiah as "Rp1.250.000" (negative: "-Rp5.000")."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("Nominal rupiah harus bilangan bulat.")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")
