"""Phone numbers as WhatsApp needs them: E.164, Indonesian mobiles only."""

import phonenumbers
from flask_babel import gettext as _

from promkm_qr.core.nik import normalize_phone


def to_e164(text: str) -> str:
    """+62... for an Indonesian mobile number typed any common way; ValueError otherwise."""
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("Nomor HP tidak dikenali.")) from exc
    mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    if number.country_code != 62 or not phonenumbers.is_valid_number(number) or not mobile:
        raise ValueError(_("Hanya nomor HP Indonesia (08... atau +62 8...) yang dapat dipakai."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_mobile(text: str) -> str:
    """A number as typed into a form, in the stored national form (08...), refused with a
    message when it is not an Indonesian mobile (WhatsApp could never reach it).

    Where numbers are entered only: signing in keeps the looser normalize_phone, so an
    account stored before this check can still sign in."""
    national = normalize_phone(text)
    to_e164(national)
    return national
