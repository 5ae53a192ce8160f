"""The rules every new password meets, for every role and wherever it is set.

The common passwords are zxcvbn's list of the 30,000 most frequent ones in leaked password
sets (lower case), loaded once on first use: a guesser tries these first.
"""

import functools

from flask_babel import gettext as _

from promkm_qr.core.nik import normalize_phone

MIN_LENGTH = 8


class WeakPassword(ValueError):
    """A new password the rules refuse; the message says why."""


@functools.cache
def _common() -> frozenset[str]:
    """The common-password list, read on the first password set.

    zxcvbn's word lists take about 17 MB of a process; workers that never set one are spared.
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _is_phone(password: str, phone: str) -> bool:
    """Whether the password is the phone number, however it is written (+62, spaces...)."""
    try:
        return normalize_phone(password) == phone
    except ValueError:
        return False


def check_new_password(
    password: str,
    nip: str | None = None,
    phone: str | None = None,
    username: str | None = None,
) -> None:
    """Raise WeakPassword unless password suits an account with these login keys."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(_("Kata sandi minimal %(n)s karakter.", n=MIN_LENGTH))
    if nip and "".join(password.split()) == nip:
        raise WeakPassword(_("Kata sandi tidak boleh sama dengan NIP."))
    if phone and _is_phone(password, phone):
        raise WeakPassword(_("Kata sandi tidak boleh sama dengan nomor HP."))
    if username and password.strip().lower() == username.lower():
        raise WeakPassword(_("Kata sandi tidak boleh sama dengan nama pengguna."))
    if password.lower() in _common():
        raise WeakPassword(
            _("Kata sandi ini termasuk yang paling sering dipakai, sehingga mudah ditebak.")
        )
