"""Hidden characters in names and free text: which are refused and which are ordinary text."""

import pytest

from promkm_qr.core.text import HiddenCharacter, check_text, hidden_character, whole_number

BIDI_CONTROLS = [
    "\u061c",  # ARABIC LETTER MARK
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    *(chr(c) for c in range(0x202A, 0x202F)),  # LRE, RLE, PDF, LRO, RLO
    *(chr(c) for c in range(0x2066, 0x206A)),  # LRI, RLI, FSI, PDI
]


@pytest.mark.parametrize("char", [*BIDI_CONTROLS, "\x00", "\x1b", "\x7f", "\x85"])
def test_bidi_and_control_characters_are_refused_by_code_point(char):
    """The message names the character, which the person cannot see."""
    with pytest.raises(HiddenCharacter, match=f"U\\+{ord(char):04X}"):
        check_text(f"Warung {char}irS uB")


def test_the_reversed_stall_name_of_the_issue_is_refused():
    """ "Warung \u202eirS uB" shows as "Warung Bu Sri" while the stored text is "irS uB"."""
    assert hidden_character("Warung \u202eirS uB") == "U+202E"


@pytest.mark.parametrize(
    "text",
    [
        "Warung Bu Sri",
        "Nasi pecel\n2 porsi\tpedas",  # notes may hold line ends and tabs
        "Kedai 🍜 Mie Ayam 👨\u200d👩\u200d👧",  # emoji, joined by ZWJ
        "Ma'ruf & Sons — café",
        "مطعم",  # right-to-left script is text, not a control
    ],
)
def test_ordinary_text_passes_unchanged(text):
    assert check_text(text) == text
    assert hidden_character(text) is None


def test_whole_numbers_are_ascii_digits_only():
    assert whole_number("42") == 42 and whole_number(7) == 7
    for text in ("", "-1", "4.5", " 4", "²", "3²", "١٢", "sepuluh", None):
        assert whole_number(text) is None, text
