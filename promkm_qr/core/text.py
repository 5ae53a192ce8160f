"""Names and free text people type: refuse the characters that hide or reverse what is shown.

Bidirectional controls (U+202E and the rest of Unicode's Bidi_Control set) make "Warung
\\u202eirS uB" display as "Warung Bu Sri" while search, sorting and the printed poster see
"irS uB"; control characters (NUL, escape, ...) are invisible too, and PostgreSQL cannot store
NUL. They are refused, not stripped: stripping would store "Warung irS uB", which is neither
what was typed nor what was shown, so the person retypes the text instead.
"""

import re

from flask_babel import gettext as _

# Unicode's Bidi_Control property (ALM, LRM, RLM, LRE...RLO, LRI...PDI) and the C0/C1
# controls and DEL; tab and line ends stay allowed, multi-line notes hold them.
_HIDDEN = re.compile(
    "[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


class HiddenCharacter(ValueError):
    """Text holding a character that hides or reverses what is shown; says which one."""


def hidden_character(text: str) -> str | None:
    """The first refused character in the text as "U+202E", or None when the text is clean."""
    found = _HIDDEN.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def hidden_refused(code: str) -> str:
    """The message refusing text that holds the character code ("U+202E")."""
    return _(
        "Teks berisi karakter tersembunyi (%(code)s) yang membalik atau menyembunyikan "
        "tulisan. Ketik ulang teks ini tanpa menempelnya dari tempat lain.",
        code=code,
    )


def check_text(text: str) -> str:
    """Return the text unchanged, or raise HiddenCharacter naming the refused character."""
    code = hidden_character(text)
    if code:
        raise HiddenCharacter(hidden_refused(code))
    return text


def whole_number(value) -> int | None:
    """A whole number sent as text ("42"), or None for anything else.

    ASCII digits only: str.isdigit() also passes "²" and other digit-like characters that
    int() refuses, which turned a tampered form field or query argument into a 500.
    """
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else None
